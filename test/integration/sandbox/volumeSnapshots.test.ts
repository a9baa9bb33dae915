import { CoreV1Api, CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { enableRbac, serviceAccountToken } from '../../sandbox/clusterRbac';
import { types } from '../../sandbox/cluster/types';
import { eventually, requireKubectl, SandboxFixture, startSandbox } from '../sandboxFixture';

const group = 'snapshot.storage.k8s.io';
const version = 'v1';
type Snapshot = { metadata: { name: string; uid: string; finalizers?: string[] }; spec: { volumeSnapshotClassName?: string }; status?: Record<string, unknown> };

describe('CSI volume snapshots in the sandbox cluster', function () {
  this.timeout(60_000);
  let sb: SandboxFixture;
  let objects: CustomObjectsApi;

  before(async function () {
    requireKubectl(this);
    sb = await startSandbox();
    sb.cluster.snapshots.readyDelayMs = 100;
    objects = sb.kubeConfig.makeApiClient(CustomObjectsApi);
  });
  afterEach(() => sb?.cluster.faults.clear());
  after(async () => sb?.stop());

  const snapshotOf = (namespace: string, name: string, claim: string, className?: string) =>
    objects.createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural: 'volumesnapshots',
      body: { apiVersion: `${group}/${version}`, kind: 'VolumeSnapshot', metadata: { name }, spec: { source: { persistentVolumeClaimName: claim }, ...(className ? { volumeSnapshotClassName: className } : {}) } },
    });
  const read = async (namespace: string, name: string): Promise<Snapshot> => (await objects.getNamespacedCustomObject({ group, version, namespace, plural: 'volumesnapshots', name })) as Snapshot;
  const settled = (namespace: string, name: string) =>
    eventually(`snapshot ${name} to be ready or failed`, async () => {
      const s = await read(namespace, name);
      return s.status?.readyToUse === true || s.status?.error ? s : undefined;
    });
  const eventsOf = (namespace: string, name: string) =>
    sb.cluster.store.list(types.events, namespace).filter((e) => (e.involvedObject as { name?: string }).name === name).map((e) => `${e.reason}: ${e.message}`);

  it('kubectl creates a snapshot from YAML, waits for readyToUse, lists it with the CRD columns and deletes it with its content and data', async () => {
    const manifest = 'apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\nmetadata: {name: orders-snap, namespace: shop}\nspec:\n  source: {persistentVolumeClaimName: data-orders-db-0}\n';
    const created = await sb.kubectl(['create', '-f', '-'], { input: manifest });
    assert.equal(created.code, 0, created.stderr);
    const waited = await sb.kubectl(['wait', '-n', 'shop', '--for=jsonpath={.status.readyToUse}=true', 'volumesnapshot/orders-snap', '--timeout=15s']);
    assert.equal(waited.code, 0, waited.stderr);

    const table = await sb.kubectl(['get', 'volumesnapshots', '-A']);
    assert.equal(table.code, 0, table.stderr);
    const [header, row] = table.stdout.toString().trim().split('\n').map((l) => l.split(/\s{2,}/));
    assert.deepEqual(header, ['NAMESPACE', 'NAME', 'READYTOUSE', 'SOURCEPVC', 'SOURCESNAPSHOTCONTENT', 'RESTORESIZE', 'SNAPSHOTCLASS', 'SNAPSHOTCONTENT', 'CREATIONTIME', 'AGE']);
    const snapshot = await read('shop', 'orders-snap');
    assert.deepEqual(row.slice(0, 7), ['shop', 'orders-snap', 'true', 'data-orders-db-0', '10Gi', 'csi-snapclass', `snapcontent-${snapshot.metadata.uid}`]);
    assert.equal(snapshot.spec.volumeSnapshotClassName, 'csi-snapclass', 'the default class of the claim driver is written into the spec');
    assert.deepEqual(snapshot.metadata.finalizers, ['snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection', 'snapshot.storage.kubernetes.io/volumesnapshot-bound-protection']);

    const classes = await sb.kubectl(['get', 'vsclass']);
    assert.match(classes.stdout.toString(), /^csi-snapclass\s+disk\.csi\.sandbox\.nkvm\.dev\s+Delete\s+\d+s$/m);
    const yaml = await sb.kubectl(['get', 'vs', '-n', 'shop', 'orders-snap', '-o', 'yaml']);
    assert.match(yaml.stdout.toString(), /restoreSize: 10Gi/);
    const data = sb.cluster.snapshotPath('shop', 'orders-snap');
    assert.ok(existsSync(`${data}/pgdata/PG_VERSION`), 'the snapshot holds the claim files');

    const deleted = await sb.kubectl(['delete', 'vs', '-n', 'shop', 'orders-snap', '--timeout=15s']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(sb.cluster.store.get(types.snapshotContents, undefined, `snapcontent-${snapshot.metadata.uid}`), undefined, 'deletionPolicy Delete removes the content');
    assert.equal(existsSync(data), false, 'and the snapshot data');
  });

  it('client-node creates, lists, watches and deletes snapshots through CustomObjectsApi', async () => {
    const seen: string[] = [];
    const watch = await new Watch(sb.kubeConfig).watch(`/apis/${group}/${version}/namespaces/shop/volumesnapshots`, {}, (type, obj: Snapshot) => {
      seen.push(`${type} ${obj.metadata.name} ${obj.status?.readyToUse ?? '-'}`);
    }, () => undefined);
    await snapshotOf('shop', 'uploads-snap', 'storefront-uploads');
    await settled('shop', 'uploads-snap');
    const list = (await objects.listClusterCustomObject({ group, version, plural: 'volumesnapshots' })) as { items: Snapshot[] };
    assert.ok(list.items.some((s) => s.metadata.name === 'uploads-snap'));
    await objects.deleteNamespacedCustomObject({ group, version, namespace: 'shop', plural: 'volumesnapshots', name: 'uploads-snap' });
    await eventually('the DELETED event', () => (seen.some((e) => e.startsWith('DELETED uploads-snap')) ? true : undefined));
    watch.abort();
    assert.ok(seen.includes('MODIFIED uploads-snap true'), seen.join('\n'));
  });

  it('refuses malformed objects with the CRD validation wording, and a changed source', async () => {
    const both = await sb.kubectl(['create', '-f', '-'], {
      input: 'apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\nmetadata: {name: bad, namespace: shop}\nspec:\n  source: {persistentVolumeClaimName: a, volumeSnapshotContentName: b}\n',
    });
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /spec\.source: Invalid value: "object": exactly one of volumeSnapshotContentName and persistentVolumeClaimName must be set/);
    const badClass = await sb.kubectl(['create', '-f', '-'], { input: 'apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshotClass\nmetadata: {name: bad}\ndeletionPolicy: Keep\n' });
    assert.match(badClass.stderr, /driver: Required value/);
    assert.match(badClass.stderr, /deletionPolicy: Unsupported value: "Keep": supported values: "Delete", "Retain"/);

    await snapshotOf('shop', 'fixed-source', 'storefront-uploads');
    const patched = await sb.kubectl(['patch', 'vs', '-n', 'shop', 'fixed-source', '--type=merge', '-p', '{"spec":{"source":{"persistentVolumeClaimName":"data-orders-db-0"}}}']);
    assert.notEqual(patched.code, 0);
    assert.match(patched.stderr, /spec\.source\.persistentVolumeClaimName: Invalid value: "string": persistentVolumeClaimName is immutable/);
  });

  it('reports why a snapshot cannot be taken in status.error and a Warning event, with the controller wording', async () => {
    await core().createNamespacedPersistentVolumeClaim({ namespace: 'media', body: { metadata: { name: 'on-hdd' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'archive-hdd' } } });
    const cases: [string, string, string, string | undefined, RegExp][] = [
      ['media', 'of-missing', 'nope', undefined, /^Failed to set default snapshot class with error failed to retrieve PVC nope from the lister: "persistentvolumeclaim \\"nope\\" not found"$/],
      ['media', 'of-pending', 'scratch', undefined, /^Failed to set default snapshot class with error the PVC scratch is not yet bound to a PV, will not attempt to take a snapshot$/],
      ['analytics', 'of-nfs', 'reports', undefined, /^Failed to set default snapshot class with error snapshotting non-CSI volumes is not supported, snapshot:analytics\/of-nfs$/],
      ['media', 'of-hdd', 'on-hdd', undefined, /^Failed to set default snapshot class with error cannot find default snapshot class$/],
      ['media', 'no-class', 'archive-2019', 'gold', /^Failed to get snapshot class with error volumesnapshotclass\.snapshot\.storage\.k8s\.io "gold" not found$/],
      ['media', 'wrong-driver', 'on-hdd', 'csi-snapclass', /^Failed to create snapshot: failed to take snapshot of the volume vol-\w+: "rpc error: code = NotFound desc = /],
    ];
    for (const [namespace, name, claim, className] of cases) await snapshotOf(namespace, name, claim, className);
    for (const [namespace, name, , , message] of cases) {
      const s = await settled(namespace, name);
      const error = s.status?.error as { message: string; time: string };
      assert.match(error.message, message, name);
      assert.notEqual(s.status?.readyToUse, true, name);
      assert.ok(eventsOf(namespace, name).some((e) => e.endsWith(error.message)), `${name}: ${eventsOf(namespace, name).join('; ')}`);
    }
  });

  it('injected faults: a failing snapshot carries the driver message; a never-ready one is cut but stays unready', async () => {
    sb.cluster.faults.inject({ kind: 'snapshotError', target: { namespace: 'media', snapshot: 'quota-*' }, message: 'snapshot quota exceeded' });
    sb.cluster.faults.inject({ kind: 'snapshotNeverReady', target: { pvc: 'archive-2019' } });
    await snapshotOf('media', 'quota-1', 'archive-2019');
    await snapshotOf('media', 'slow-1', 'archive-2019');
    const failed = await settled('media', 'quota-1');
    assert.match((failed.status?.error as { message: string }).message, /rpc error: code = Internal desc = snapshot quota exceeded/);
    await eventually('slow-1 cut', async () => ((await read('media', 'slow-1')).status?.creationTime ? true : undefined));
    await new Promise((r) => setTimeout(r, 400));
    const slow = await read('media', 'slow-1');
    assert.equal(slow.status?.readyToUse, false);
    assert.equal(slow.status?.error, undefined);
  });

  it('authorizes the snapshot resources with RBAC: a Role granting volumesnapshots works, without it a 403 with the real wording', async () => {
    const disable = enableRbac(sb.cluster);
    try {
      sb.cluster.seed(
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'snapper', namespace: 'shop' } },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'snapshots', namespace: 'shop' }, rules: [{ apiGroups: [group], resources: ['volumesnapshots'], verbs: ['get', 'list', 'create', 'delete'] }] },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'snapper', namespace: 'shop' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'snapshots' }, subjects: [{ kind: 'ServiceAccount', name: 'snapper', namespace: 'shop' }] },
      );
      const config = new KubeConfig();
      config.loadFromString(sb.cluster.kubeconfig({ token: serviceAccountToken(sb.cluster, 'shop', 'snapper') }));
      const limited = config.makeApiClient(CustomObjectsApi);
      const listed = (await limited.listNamespacedCustomObject({ group, version, namespace: 'shop', plural: 'volumesnapshots' })) as { items: unknown[] };
      assert.ok(Array.isArray(listed.items));
      await assert.rejects(limited.listNamespacedCustomObject({ group, version, namespace: 'media', plural: 'volumesnapshots' }), (e: { code?: number; body?: string }) => {
        assert.equal(e.code, 403);
        assert.match(String(e.body), /volumesnapshots\.snapshot\.storage\.k8s\.io is forbidden: User \\"system:serviceaccount:shop:snapper\\" cannot list resource \\"volumesnapshots\\" in API group \\"snapshot\.storage\.k8s\.io\\" in the namespace \\"media\\"/);
        return true;
      });
    } finally {
      disable();
    }
  });

  const core = () => sb.kubeConfig.makeApiClient(CoreV1Api);
});
