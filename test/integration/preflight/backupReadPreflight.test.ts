import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { preflightVolumes, type PreflightSettings } from '../../../src/core/preflight/preflightVolumes';
import { preflightMarkdown } from '../../../src/core/preflight/preflightMarkdown';
import { readerPod } from '../podHelpers';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

describe('preflight: how a backup would read each claim, and the hooks around it (nothing is snapshotted or run)', function () {
  this.timeout(60_000);
  let sb: SandboxFixture;
  const settings: PreflightSettings = { helperImage: 'alpine:3.20', helperPodTimeoutSeconds: 20, probeImage: false };
  const writes = (from: number) => sb.cluster.requests.slice(from).filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method) && !r.path.endsWith('/selfsubjectaccessreviews') && !r.query.includes('dryRun=All'));

  before(async () => {
    sb = await startSandbox();
    const core = sb.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedPersistentVolumeClaim({ namespace: 'media', body: { metadata: { name: 'catalog' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' } } });
    const pod = readerPod('catalog-db-0', 'media', 'catalog');
    pod.metadata!.annotations = {
      'pre.hook.backup.velero.io/command': '["/bin/sh", "-c", "echo flush | nc -q1 localhost 5000"]',
      'pre.hook.backup.velero.io/timeout': '2m',
      'post.hook.backup.velero.io/command': '/bin/true',
      'post.hook.backup.velero.io/container': 'sidecar',
      'post.hook.backup.velero.io/on-error': 'Continue',
    };
    await core.createNamespacedPod({ namespace: 'media', body: pod });
    await eventually('the catalog pod runs', async () => ((await core.readNamespacedPod({ name: 'catalog-db-0', namespace: 'media' })).status?.phase === 'Running' ? true : undefined), 20_000);
  });
  after(async () => sb?.stop());

  it('says a standard claim gets a snapshot through its driver default class and an NFS claim is read live, and why, creating nothing', async () => {
    const from = sb.cluster.requests.length;
    const [archive, reports] = await preflightVolumes(sb.kubeConfig, [{ namespace: 'media', pvc: 'archive-2019' }, { namespace: 'analytics', pvc: 'reports' }], settings);
    assert.equal(archive.consistency?.kind, 'snapshot', JSON.stringify(archive.consistency));
    assert.ok(archive.consistency?.kind === 'snapshot');
    assert.equal(archive.consistency.snapshotClass, 'csi-snapclass');
    assert.equal(archive.consistency.deletionPolicy, 'Delete');
    assert.equal(archive.consistency.temporaryClaimClass, 'standard');
    assert.match(archive.consistency.reason, /csi-snapclass is the default VolumeSnapshotClass/);
    assert.equal(reports.consistency?.kind, 'live');
    assert.match(reports.consistency!.reason, /not a CSI volume/);
    assert.notEqual(reports.verdict, 'blocked', reports.reasons.join('\n'));
    assert.deepEqual(writes(from), [], 'no snapshot, claim or pod was created');
    assert.equal(sb.cluster.requests.slice(from).filter((r) => r.subresource === 'exec').length, 0, 'no hook was run');

    const md = preflightMarkdown('sandbox', [archive, reports], new Date());
    assert.match(md, /\| `media\/archive-2019` \| Ready[^|]*\| snapshot \(csi-snapclass\) \|/);
    assert.match(md, /\| `analytics\/reports` \|[^|]*\| live \|/);
  });

  it('blocks a claim that cannot be snapshotted when snapshots are required, with the reason and what to do', async () => {
    const [reports] = await preflightVolumes(sb.kubeConfig, [{ namespace: 'analytics', pvc: 'reports' }], { ...settings, consistency: 'snapshot' });
    assert.equal(reports.verdict, 'blocked');
    assert.equal(reports.consistency?.kind, 'refused');
    assert.match(reports.reasons.join('\n'), /snapshot backup was asked for.*not a CSI volume.*live/s);
  });

  it('warns when the snapshot class keeps its snapshots (deletionPolicy Retain), and prefers a class that deletes them', async () => {
    const custom = sb.kubeConfig.makeApiClient(CustomObjectsApi);
    const retainClass = (name: string, driver: string) => ({
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshotClass',
      metadata: { name, annotations: { 'snapshot.storage.kubernetes.io/is-default-class': 'true' } },
      driver,
      deletionPolicy: 'Retain',
    });
    const classes = { group: 'snapshot.storage.k8s.io', version: 'v1', plural: 'volumesnapshotclasses' };
    const core = sb.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedPersistentVolumeClaim({ namespace: 'media', body: { metadata: { name: 'cold' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'archive-hdd' } } });
    await eventually('bound', async () => ((await core.readNamespacedPersistentVolumeClaim({ name: 'cold', namespace: 'media' })).status?.phase === 'Bound' ? true : undefined));
    await custom.createClusterCustomObject({ ...classes, body: retainClass('aa-retained', 'disk.csi.sandbox.nkvm.dev') });
    await custom.createClusterCustomObject({ ...classes, body: retainClass('hdd-retained', 'hdd.csi.sandbox.nkvm.dev') });
    try {
      const [archive, cold] = await preflightVolumes(sb.kubeConfig, [{ namespace: 'media', pvc: 'archive-2019' }, { namespace: 'media', pvc: 'cold' }], { ...settings, snapshotStorageClass: 'fast-ssd' });
      assert.ok(archive.consistency?.kind === 'snapshot', JSON.stringify(archive.consistency));
      assert.equal(archive.consistency.snapshotClass, 'csi-snapclass', 'of two default classes, the one that deletes its snapshots');
      assert.equal(archive.consistency.temporaryClaimClass, 'fast-ssd');
      assert.ok(cold.consistency?.kind === 'snapshot', JSON.stringify(cold.consistency));
      assert.equal(cold.consistency.snapshotClass, 'hdd-retained');
      assert.equal(cold.verdict, 'warning');
      assert.match(cold.reasons.join('\n'), /hdd-retained has deletionPolicy Retain.*VolumeSnapshotContent/);
    } finally {
      await custom.deleteClusterCustomObject({ ...classes, name: 'aa-retained' });
      await custom.deleteClusterCustomObject({ ...classes, name: 'hdd-retained' });
      await core.deleteNamespacedPersistentVolumeClaim({ name: 'cold', namespace: 'media' });
    }
  });

  it('lists the hooks that would run, from Velero annotations and nkvm.backup.hooks, and blocks on a pre hook that cannot run', async () => {
    const hooks = { 'media/catalog': { pre: { command: ['/bin/sync'], container: 'db', onError: 'Fail' as const } } };
    const [catalog] = await preflightVolumes(sb.kubeConfig, [{ namespace: 'media', pvc: 'catalog' }], { ...settings, hooks });
    const planned = [...catalog.hooks!.pre, ...catalog.hooks!.post].map((h) => [h.phase, h.source, h.pod, h.container, h.command.join(' '), h.onError, h.timeoutMs, h.problem !== undefined]);
    assert.deepEqual(planned, [
      ['pre', 'annotation', 'catalog-db-0', 'main', '/bin/sh -c echo flush | nc -q1 localhost 5000', 'Fail', 120_000, false],
      ['pre', 'setting', 'catalog-db-0', 'db', '/bin/sync', 'Fail', 30_000, true],
      ['post', 'annotation', 'catalog-db-0', 'sidecar', '/bin/true', 'Continue', 30_000, true],
    ]);
    assert.equal(catalog.verdict, 'blocked');
    assert.match(catalog.reasons.join('\n'), /pre hook in media\/catalog-db-0 \(nkvm\.backup\.hooks\["media\/catalog"\]\.pre\) cannot run: .*no container "db".*stops at stage hook/);
    assert.match(catalog.reasons.join('\n'), /post hook .* cannot run: .*no container "sidecar"/);

    const md = preflightMarkdown('sandbox', [catalog], new Date());
    // The pipe inside the command stays inside its cell.
    assert.match(md, /\| pre \| `catalog-db-0` \| `main` \| `\["\/bin\/sh","-c","echo flush \\\| nc -q1 localhost 5000"\]` \| Fail \| 2m0s \| `pre\.hook\.backup\.velero\.io` \| - \|/);
    assert.match(md, /\| post \| `catalog-db-0` \| `sidecar` \|.*\| Continue \| 30s \|.*\*\*cannot run:\*\*/);
  });

  it('says when no hook would run', async () => {
    const [archive] = await preflightVolumes(sb.kubeConfig, [{ namespace: 'media', pvc: 'archive-2019' }], settings);
    assert.deepEqual(archive.hooks?.pre, []);
    assert.match(preflightMarkdown('sandbox', [archive], new Date()), /- Hooks: none/);
  });
});
