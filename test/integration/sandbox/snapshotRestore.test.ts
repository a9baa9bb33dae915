import { CoreV1Api, CustomObjectsApi, KubeConfig, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { types } from '../../sandbox/cluster/types';
import { seedDemo } from '../../sandbox/demoData';
import { loadCluster, saveCluster } from '../../sandbox/persistence';
import { SandboxCluster } from '../../sandbox/sandboxCluster';
import { eventually } from '../sandboxFixture';

const group = 'snapshot.storage.k8s.io';
const version = 'v1';
type Snapshot = { metadata: { name: string; uid: string }; status?: { readyToUse?: boolean; creationTime?: string; boundVolumeSnapshotContentName?: string } };

/** Every entry with its type, mode, owner, size, mtime and link target, then the files' checksums. */
function fingerprint(dir: string): string {
  const listing = execFileSync('find', ['.', '-printf', '%y %m %u:%g %s %T@ %p -> %l\\n'], { cwd: dir, encoding: 'utf8' }).split('\n').sort().join('\n');
  const sums = execFileSync('sh', ['-c', 'find . -type f -print0 | sort -z | xargs -0 -r sha256sum'], { cwd: dir, encoding: 'utf8' });
  return `${listing}\n${sums}`;
}

describe('restoring claims from sandbox snapshots, and their lifecycle', function () {
  this.timeout(60_000);
  let dir: string;
  let cluster: SandboxCluster;
  let writer: ChildProcess | undefined;

  const start = async (): Promise<SandboxCluster> => SandboxCluster.start({ dataDir: join(dir, 'data'), snapshotReadyDelayMs: 100 });
  const api = () => {
    const config = new KubeConfig();
    config.loadFromString(cluster.kubeconfig());
    return { core: config.makeApiClient(CoreV1Api), objects: config.makeApiClient(CustomObjectsApi) };
  };
  const snapshot = (namespace: string, name: string, claim: string, className?: string) =>
    api().objects.createNamespacedCustomObject({
      group,
      version,
      namespace,
      plural: 'volumesnapshots',
      body: { apiVersion: `${group}/${version}`, kind: 'VolumeSnapshot', metadata: { name }, spec: { source: { persistentVolumeClaimName: claim }, ...(className ? { volumeSnapshotClassName: className } : {}) } },
    });
  const readSnapshot = async (namespace: string, name: string) => (await api().objects.getNamespacedCustomObject({ group, version, namespace, plural: 'volumesnapshots', name })) as Snapshot;
  const ready = (namespace: string, name: string) => eventually(`${name} ready`, async () => ((await readSnapshot(namespace, name)).status?.readyToUse ? true : undefined));
  const claimFrom = (namespace: string, name: string, size: string, dataSource: object, extra: Partial<V1PersistentVolumeClaim['spec']> = {}) =>
    api().core.createNamespacedPersistentVolumeClaim({ namespace, body: { metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, storageClassName: 'standard', dataSource: dataSource as never, ...extra } } });
  const phase = async (namespace: string, name: string) => (await api().core.readNamespacedPersistentVolumeClaim({ namespace, name })).status?.phase;
  const bound = (namespace: string, name: string) => eventually(`${name} bound`, async () => ((await phase(namespace, name)) === 'Bound' ? true : undefined));
  const warnings = (namespace: string, name: string) =>
    cluster.store.list(types.events, namespace).filter((e) => (e.involvedObject as { name?: string }).name === name && e.type === 'Warning').map((e) => `${e.reason}: ${e.message}`);
  const fromSnapshot = (name: string) => ({ apiGroup: group, kind: 'VolumeSnapshot', name });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nkvm-snap-'));
    cluster = await start();
    seedDemo(cluster);
  });
  afterEach(async () => {
    writer?.kill('SIGKILL');
    writer = undefined;
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a snapshot is the claim at the instant it was cut: a writer that keeps appending never changes it', async () => {
    const volume = cluster.volumePath('shop', 'storefront-uploads');
    writer = spawn('sh', ['-c', 'i=0; while :; do i=$((i+1)); echo "record $i" >> "$1/live.log"; done', 'writer', volume], { stdio: 'ignore' });
    await eventually('the writer is writing', () => (existsSync(join(volume, 'live.log')) && readFileSync(join(volume, 'live.log')).length > 10_000 ? true : undefined));
    await snapshot('shop', 'cut', 'storefront-uploads');
    await eventually('cut', async () => ((await readSnapshot('shop', 'cut')).status?.creationTime ? true : undefined));
    const data = cluster.snapshotPath('shop', 'cut');
    const atCut = fingerprint(data);
    const liveAtCut = readFileSync(join(volume, 'live.log')).length;
    await ready('shop', 'cut');
    await eventually('the writer wrote on', () => (readFileSync(join(volume, 'live.log')).length > liveAtCut + 10_000 ? true : undefined));
    assert.equal(fingerprint(data), atCut, 'the snapshot never changes after it is cut');
    const lines = readFileSync(join(data, 'live.log'), 'utf8').split('\n').filter(Boolean);
    assert.ok(lines.every((l, i) => l === `record ${i + 1}` || i === lines.length - 1), 'the copy is the log up to the cut');
    // Owners, modes, times and symlinks are the volume's, apart from the file still being written.
    writer.kill('SIGKILL');
    const withoutLog = (f: string) => f.split('\n').filter((l) => !l.includes('live.log') && !/^d \d+ \S+ \d+ \S+ \. /.test(l)).join('\n');
    assert.equal(withoutLog(fingerprint(data)), withoutLog(fingerprint(volume)));
  });

  it('provisions a claim from a snapshot once it is ready, with its data; Pending with ProvisioningFailed before', async () => {
    cluster.snapshots.readyDelayMs = 1500;
    await claimFrom('shop', 'early', '10Gi', fromSnapshot('db-snap'));
    await eventually('missing snapshot event', () => (warnings('shop', 'early').some((w) => w.includes('volumesnapshots.snapshot.storage.k8s.io "db-snap" not found')) ? true : undefined));
    await snapshot('shop', 'db-snap', 'data-orders-db-0');
    await eventually('not-ready event', () => (warnings('shop', 'early').includes('ProvisioningFailed: error getting handle for DataSource Type VolumeSnapshot by Name db-snap: snapshot db-snap is not Ready') ? true : undefined));
    assert.equal(await phase('shop', 'early'), 'Pending');
    await bound('shop', 'early');
    assert.equal(fingerprint(cluster.volumePath('shop', 'early')), fingerprint(cluster.snapshotPath('shop', 'db-snap')));

    await claimFrom('shop', 'read-only', '10Gi', fromSnapshot('db-snap'), { accessModes: ['ReadOnlyMany'] });
    await bound('shop', 'read-only');
    await claimFrom('shop', 'too-small', '1Gi', fromSnapshot('db-snap'));
    await claimFrom('shop', 'other-driver', '10Gi', fromSnapshot('db-snap'), { storageClassName: 'archive-hdd' });
    const message = (why: string) => `ProvisioningFailed: error getting handle for DataSource Type VolumeSnapshot by Name db-snap: ${why}`;
    await eventually('refusals', () => (warnings('shop', 'too-small').length && warnings('shop', 'other-driver').length ? true : undefined));
    const content = (await readSnapshot('shop', 'db-snap')).status?.boundVolumeSnapshotContentName;
    assert.deepEqual(warnings('shop', 'too-small'), [message('requested volume size 1073741824 is less than the size 10737418240 for the source snapshot db-snap')]);
    assert.deepEqual(warnings('shop', 'other-driver'), [message(`snapshotcontent ${content} for snapshot db-snap is not handled by CSI driver of StorageClass archive-hdd`)]);
    assert.equal(await phase('shop', 'too-small'), 'Pending');
  });

  it('clones a claim (dataSource PersistentVolumeClaim) with its files, owners and modes', async () => {
    await claimFrom('media', 'archive-copy', '20Gi', { kind: 'PersistentVolumeClaim', name: 'archive-2019' });
    await bound('media', 'archive-copy');
    assert.equal(fingerprint(cluster.volumePath('media', 'archive-copy')), fingerprint(cluster.volumePath('media', 'archive-2019')));
    await claimFrom('media', 'smaller-copy', '1Gi', { kind: 'PersistentVolumeClaim', name: 'archive-2019' });
    await eventually('refusal', () => (warnings('media', 'smaller-copy').length ? true : undefined));
    assert.match(warnings('media', 'smaller-copy')[0], /new PVC request must be greater than or equal in size to the specified PVC data source, requested 1073741824 but source is 21474836480/);
  });

  it('deletion: waits while a claim is provisioned from the snapshot; Delete removes content and data, Retain keeps both', async () => {
    cluster.seed({ apiVersion: `${group}/${version}`, kind: 'VolumeSnapshotClass', metadata: { name: 'keep' }, driver: 'disk.csi.sandbox.nkvm.dev', deletionPolicy: 'Retain' });
    await snapshot('media', 'gone', 'archive-2019');
    await snapshot('media', 'kept', 'archive-2019', 'keep');
    await ready('media', 'gone');
    await ready('media', 'kept');
    const goneData = cluster.snapshotPath('media', 'gone');
    const keptData = cluster.snapshotPath('media', 'kept');
    const keptContent = (await readSnapshot('media', 'kept')).status!.boundVolumeSnapshotContentName!;

    // A claim that cannot be provisioned yet (too small) holds the snapshot back.
    await claimFrom('media', 'waiting', '1Gi', fromSnapshot('gone'));
    await api().objects.deleteNamespacedCustomObject({ group, version, namespace: 'media', plural: 'volumesnapshots', name: 'gone' });
    await eventually('pending deletion event', () => (warnings('media', 'gone').includes('SnapshotDeletePending: Snapshot is being used to restore a PVC') ? true : undefined));
    assert.ok(existsSync(goneData));
    await api().core.deleteNamespacedPersistentVolumeClaim({ namespace: 'media', name: 'waiting' });
    await eventually('snapshot gone', () => (cluster.store.get(types.snapshots, 'media', 'gone') ? undefined : true));
    assert.equal(existsSync(goneData), false);

    await api().objects.deleteNamespacedCustomObject({ group, version, namespace: 'media', plural: 'volumesnapshots', name: 'kept' });
    await eventually('snapshot gone', () => (cluster.store.get(types.snapshots, 'media', 'kept') ? undefined : true));
    assert.ok(cluster.store.get(types.snapshotContents, undefined, keptContent), 'Retain keeps the content');
    assert.ok(existsSync(keptData), 'and its data');
  });

  it('snapshots and their data survive a restart with --data, and still restore', async () => {
    await snapshot('shop', 'before-restart', 'storefront-uploads');
    await ready('shop', 'before-restart');
    const before = fingerprint(cluster.snapshotPath('shop', 'before-restart'));
    saveCluster(cluster);
    await cluster.stop();
    cluster = await start();
    assert.equal(loadCluster(cluster), true);
    assert.equal((await readSnapshot('shop', 'before-restart')).status?.readyToUse, true);
    assert.equal(fingerprint(cluster.snapshotPath('shop', 'before-restart')), before);
    await claimFrom('shop', 'after-restart', '5Gi', fromSnapshot('before-restart'));
    await bound('shop', 'after-restart');
    assert.equal(fingerprint(cluster.volumePath('shop', 'after-restart')), before);
    await snapshot('shop', 'after-restart-snap', 'storefront-uploads');
    await ready('shop', 'after-restart-snap');
  });
});
