import assert from 'node:assert/strict';
import { join } from 'node:path';
import { checkPermissions, discoveryPermissions, permissionLabel, requiredPermissions } from '../../../src/core/access/checkPermissions';
import { backupVolume } from '../../../src/core/backup/backupVolume';
import { deleteHelperPods, findHelperPods } from '../../../src/core/backup/leftoverHelpers';
import { discoverVolumes, listNamespaces, listVolumesInNamespace } from '../../../src/core/discovery/discoverVolumes';
import { restoreVolume } from '../../../src/core/restore/restoreVolume';
import { findGrant, ruleAllows, serviceAccountUser } from '../../sandbox/api/rbacPolicy';
import { parseResourcePath } from '../../sandbox/api/requestInfo';
import { findResourceType } from '../../sandbox/resourceTypes';
import { RequestRecord } from '../../sandbox/sandboxCluster';
import { readerPod } from '../podHelpers';
import { allManifests, expandRule, manifestRules, RbacFixture, SA_NAME, SA_NAMESPACE, SA_USER, startRbacSandbox } from './rbacFixture';
import { requireKubectl } from '../sandboxFixture';
import type { AccessAttributes } from '../../sandbox/api/access';

/** A request as the authorizer saw it. */
type SentRequest = Omit<AccessAttributes, 'user'> & { record: RequestRecord };

const NAMESPACES = ['shop', 'analytics', 'media'];
const key = (p: { verb: string; group: string; resource: string; subresource?: string }): string => permissionLabel(p);

describe('deploy/k8s/rbac grants what the engine asks for, and nothing it does not', function () {
  this.timeout(120_000);
  let rbac: RbacFixture;
  let sent: SentRequest[];

  before(async function () {
    requireKubectl(this);
    rbac = await startRbacSandbox();
    for (const namespace of NAMESPACES) await rbac.bindRuntime(namespace);
    const { cluster } = rbac.sb;
    const kc = rbac.kubeConfig;
    const from = cluster.requests.length;
    const options = { maxNamespaceScan: 100, timeoutSeconds: 10 };

    // The volumes tree: everything at once, then level by level.
    await discoverVolumes(kc, options);
    await listNamespaces(kc, options);
    for (const namespace of NAMESPACES) await listVolumesInNamespace(kc, namespace, options);

    // Backups of every kind of claim, then one whose helper cannot start (its events are read).
    let run = 0;
    const backup = (namespace: string, pvc: string) =>
      backupVolume(kc, { context: 'sandbox-nkvm', namespace, pvc }, { backupDir: join(rbac.sb.dir, `backups-${++run}`), helperImage: 'alpine:3.20', helperPodTimeoutSeconds: 20 }, 'coverage');
    for (const [namespace, pvc] of [['shop', 'storefront-uploads'], ['shop', 'data-orders-db-0'], ['analytics', 'reports'], ['media', 'archive-2019']]) {
      const result = await backup(namespace, pvc);
      assert.equal(result.status, 'success', `${namespace}/${pvc}: ${result.message}`);
    }
    const removeFault = cluster.faults.inject({ kind: 'imagePull', target: { namespace: 'media', pod: 'nkvm-backup-*' } });
    const failed = await backup('media', 'archive-2019');
    removeFault();
    assert.equal(failed.stage, 'wait', failed.message);
    assert.ok(failed.evidence.some((e) => e.startsWith('Warning')), 'the failure quotes the pod events');

    // Restores: into a new claim, and one whose helper cannot start, so the claim it made is deleted again.
    const archivePath = (await backup('media', 'archive-2019')).archivePath!;
    const restore = (pvc: string) =>
      restoreVolume(kc, { archivePath, target: { context: 'sandbox-nkvm', namespace: 'media', pvc }, createClaim: { storage: '1Gi' } }, { helperImage: 'alpine:3.20', helperPodTimeoutSeconds: 20 }, 'coverage');
    const restored = await restore('archive-2019-copy');
    assert.equal(restored.status, 'success', restored.message);
    const removeRestoreFault = cluster.faults.inject({ kind: 'imagePull', target: { namespace: 'media', pod: 'nkvm-restore-*' } });
    const failedRestore = await restore('archive-2019-copy-2');
    removeRestoreFault();
    assert.equal(failedRestore.stage, 'wait', failedRestore.message);
    assert.equal(failedRestore.claimCreated, true);
    assert.equal(cluster.store.list(findResourceType('', 'v1', 'persistentvolumeclaims')!, 'media').filter((c) => c.metadata?.name === 'archive-2019-copy-2').length, 0, 'the claim made for the failed restore is gone');

    // A helper left behind by a crash: found cluster-wide, removed in its namespace.
    const { spec } = readerPod('nkvm-backup-reports-crashed', 'analytics', 'reports');
    cluster.seed({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nkvm-backup-reports-crashed', namespace: 'analytics', labels: { 'app.kubernetes.io/component': 'backup-helper' } }, spec });
    const found = await findHelperPods(kc);
    assert.deepEqual(found.map((p) => `${p.namespace}/${p.name}`), ['analytics/nkvm-backup-reports-crashed']);
    assert.deepEqual(await deleteHelperPods(kc, found), []);

    // The "Check permissions" command.
    await checkPermissions(kc, 'shop');

    sent = cluster.requests
      .slice(from)
      .filter((r) => r.user === SA_USER)
      .map((record) => {
        const parsed = parseResourcePath(record.path);
        assert.equal(parsed.kind, 'resource', `${record.method} ${record.path} is not a resource request`);
        const { type, namespace, name, subresource } = (parsed as Extract<typeof parsed, { kind: 'resource' }>).request;
        return { verb: record.verb!, group: type.group, resource: type.plural, subresource, namespace, name, record };
      });
  });
  after(async () => rbac?.stop());

  it('sends no request that is refused once every binding is applied', () => {
    // Cleanup reads a deleted helper (and a snapshot backup's temporary claim and VolumeSnapshot) until the
    // API server answers 404: that is how it knows the object is gone.
    const deletedAt = (r: SentRequest) => sent.findIndex((d) => d.record.method === 'DELETE' && d.record.path === r.record.path);
    const goneChecks = sent.filter((r, i) => r.record.status === 404 && r.record.method === 'GET' && deletedAt(r) >= 0 && deletedAt(r) < i);
    assert.ok(goneChecks.filter((r) => r.resource === 'pods').length >= 6, 'every backup and restore confirms its helper is gone');
    assert.ok(goneChecks.some((r) => r.resource === 'volumesnapshots'), 'snapshot backups confirm their VolumeSnapshot is gone');
    const refused = sent.filter((r) => r.record.status >= 400 && !goneChecks.includes(r));
    // The only other error answers: a restore looks for the claim it is about to create, and finds none.
    const expected = ['404 GET /api/v1/namespaces/media/persistentvolumeclaims/archive-2019-copy', '404 GET /api/v1/namespaces/media/persistentvolumeclaims/archive-2019-copy-2'];
    assert.deepEqual(refused.map((r) => `${r.record.status} ${r.record.method} ${r.record.path}`), expected);
    assert.ok(sent.some((r) => r.subresource === 'exec' && r.record.status === 101), 'the archive streamed over exec');
  });

  it('is allowed by the manifests for every request (SelfSubjectAccessReviews by system:basic-user)', () => {
    const user = serviceAccountUser(SA_NAMESPACE, SA_NAME);
    for (const r of sent) {
      const grant = findGrant(rbac.sb.cluster.store, { user, ...r });
      const what = `${r.verb} ${r.record.path}`;
      assert.ok(grant, `nothing grants ${what}`);
      const expected = r.resource === 'selfsubjectaccessreviews' ? ['system:basic-user'] : ['nkvm-cluster-discovery', 'nkvm-runtime'];
      assert.ok(expected.includes(grant.role.name), `${what} is granted by ${grant.reason}`);
    }
  });

  it('makes only requests listed in requiredPermissions() or discoveryPermissions()', () => {
    const listed = [...NAMESPACES.flatMap(requiredPermissions), ...discoveryPermissions()];
    const unlisted = sent.filter(
      (r) => r.resource !== 'selfsubjectaccessreviews' && !listed.some((p) => key(p) === key(r) && (p.namespace === undefined || p.namespace === r.namespace)),
    );
    assert.deepEqual(unlisted.map((r) => `${key(r)} ${r.namespace ?? '(cluster)'}`), []);
  });

  it('uses every rule of the manifests, except permissions kept for older API servers', () => {
    const exceptions = new Set(requiredPermissions('x').filter((p) => p.onlyBefore).map(key));
    assert.deepEqual([...exceptions], ['get pods/exec']);
    const unused = (file: string, scope: (r: SentRequest) => boolean): string[] =>
      manifestRules(file)
        .flatMap(expandRule)
        .filter((g) => !exceptions.has(key(g)) && !sent.some((r) => scope(r) && ruleAllows({ apiGroups: [g.group], resources: [g.subresource ? `${g.resource}/${g.subresource}` : g.resource], verbs: [g.verb] }, r)))
        .map(key);
    // The runtime role is bound per namespace, so it must be used inside one.
    assert.deepEqual(unused('clusterrole-runtime.yaml', (r) => r.namespace !== undefined), []);
    // The discovery role is bound cluster-wide: lists inside one namespace count too (ReplicaSets and
    // Jobs are read only where a mounting pod needs them), and some lists need the cluster scope.
    assert.deepEqual(unused('clusterrole-cluster-discovery.yaml', () => true), []);
    const clusterWide = new Set(sent.filter((r) => r.namespace === undefined && r.resource !== 'selfsubjectaccessreviews').map(key));
    assert.deepEqual([...clusterWide].sort(), [
      'get persistentvolumes',
      'list namespaces',
      'list persistentvolumeclaims',
      'list pods',
      'list volumesnapshotclasses.snapshot.storage.k8s.io',
      'list volumesnapshots.snapshot.storage.k8s.io',
    ]);
  });

  it('grants exactly the permissions listed in src/core/access/checkPermissions.ts', () => {
    const sorted = (list: { verb: string; group: string; resource: string; subresource?: string }[]) => list.map(key).sort();
    assert.deepEqual(sorted(manifestRules('clusterrole-runtime.yaml').flatMap(expandRule)), sorted(requiredPermissions('shop')));
    assert.deepEqual(sorted(manifestRules('clusterrole-cluster-discovery.yaml').flatMap(expandRule)), sorted(discoveryPermissions()));
  });

  it('has no wildcard, no secrets, only reads cluster-wide, and binds only the ServiceAccount', () => {
    const rules = ['clusterrole-runtime.yaml', 'clusterrole-cluster-discovery.yaml'].flatMap(manifestRules);
    const words = rules.flatMap((r) => [...(r.apiGroups ?? []), ...(r.resources ?? []), ...(r.verbs ?? []), ...(r.resourceNames ?? [])]);
    assert.deepEqual(words.filter((w) => w.includes('*')), []);
    assert.deepEqual(words.filter((w) => /secret/.test(w)), []);
    assert.deepEqual(manifestRules('clusterrole-cluster-discovery.yaml').flatMap((r) => r.verbs ?? []).filter((v) => !['get', 'list', 'watch'].includes(v)), []);
    const bindings = allManifests().filter(({ doc }) => String(doc.kind).endsWith('Binding'));
    assert.deepEqual(bindings.map(({ doc }) => [doc.kind, (doc.roleRef as { name: string }).name]), [
      ['ClusterRoleBinding', 'nkvm-cluster-discovery'],
      ['RoleBinding', 'nkvm-runtime'],
    ]);
    for (const { doc } of bindings) assert.deepEqual(doc.subjects, [{ kind: 'ServiceAccount', name: SA_NAME, namespace: SA_NAMESPACE }]);
  });
});
