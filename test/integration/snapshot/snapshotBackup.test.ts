import { CoreV1Api, CustomObjectsApi, StorageV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { backupVolume, type BackupResult, type BackupSettings } from '../../../src/core/backup/backupVolume';
import { findResourceType } from '../../sandbox/resourceTypes';
import { TEST_HELPER_IMAGE } from '../helperImage';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

const podsType = findResourceType('', 'v1', 'pods')!;
const snapshotsType = { group: 'snapshot.storage.k8s.io', version: 'v1', plural: 'volumesnapshots' };

/**
 * The writer appends numbered records to two files in turn: `n <check of n>` to a.log, then the same to
 * b.log, with shell builtins only (fast). At any one instant b.log holds the records of a.log, or one fewer.
 */
const WRITER = 'i=0; while :; do i=$((i+1)); r="$i $(( (i * 2654435761) % 4294967296 ))"; echo "$r" >> /data/a.log; echo "$r" >> /data/b.log; done';
const check = (n: number): string => String((n * 2654435761) % 4294967296);

describe('point-in-time backups through CSI snapshots', function () {
  this.timeout(120_000);
  let sb: SandboxFixture;
  let backupDir: string;
  const namespace = 'media';
  const settings = (extra: Partial<BackupSettings> = {}): BackupSettings => ({ backupDir, helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 30, snapshotTimeoutSeconds: 10, ...extra });

  before(async () => {
    sb = await startSandbox();
    backupDir = mkdtempSync(join(sb.dir, 'backups-'));
  });
  afterEach(() => sb.cluster.faults.clear());
  after(async () => sb?.stop());

  const core = () => sb.kubeConfig.makeApiClient(CoreV1Api);
  const snapshotsLeft = async () => ((await sb.kubeConfig.makeApiClient(CustomObjectsApi).listClusterCustomObject(snapshotsType)) as { items: unknown[] }).items;
  const nkvmObjectsLeft = async () => ({
    snapshots: await snapshotsLeft(),
    claims: (await core().listPersistentVolumeClaimForAllNamespaces({ labelSelector: 'app.kubernetes.io/component=snapshot-claim' })).items.map((c) => c.metadata?.name),
    helpers: sb.cluster.store.list(podsType).filter((p) => p.metadata?.labels?.['app.kubernetes.io/component'] === 'backup-helper').map((p) => p.metadata?.name),
  });
  const nothingLeft = async () => assert.deepEqual(await nkvmObjectsLeft(), { snapshots: [], claims: [], helpers: [] });

  async function claim(name: string, storageClassName = 'standard'): Promise<string> {
    await core().createNamespacedPersistentVolumeClaim({ namespace, body: { metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName } } });
    return eventually('bound', async () => ((await core().readNamespacedPersistentVolumeClaim({ name, namespace })).status?.phase === 'Bound' ? sb.cluster.volumePath(namespace, name) : undefined), 10_000);
  }

  async function withWriter(pvc: string, run: () => Promise<BackupResult>): Promise<BackupResult> {
    const pod = `writer-${pvc}`;
    await core().createNamespacedPod({
      namespace,
      body: {
        metadata: { name: pod, namespace },
        spec: { containers: [{ name: 'main', image: 'alpine:3.20', command: ['sh', '-c', WRITER], volumeMounts: [{ name: 'data', mountPath: '/data' }] }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: pvc } }] },
      },
    });
    const volume = sb.cluster.volumePath(namespace, pvc);
    // Enough records that reading a.log and then b.log takes a while.
    await eventually('the writer is writing', () => (lineCount(join(volume, 'b.log')) > 20_000 ? true : undefined), 60_000);
    try {
      return await run();
    } finally {
      await core().deleteNamespacedPod({ name: pod, namespace, gracePeriodSeconds: 0 });
    }
  }

  it('auto: backs up a CSI claim from a snapshot of one instant while a writer keeps writing, and leaves no snapshot or claim behind', async () => {
    await claim('journal');
    const result = await withWriter('journal', () => backupVolume(sb.kubeConfig, { context: 'sandbox', namespace, pvc: 'journal' }, settings(), 'snap-auto'));
    assert.equal(result.status, 'success', `${result.stage}: ${result.message} ${result.nextStep ?? ''}`);
    assert.equal(result.consistency, 'snapshot');
    assert.match(result.snapshotName ?? '', /^nkvm-snap-journal-/);
    assert.ok(result.snapshotAt && !Number.isNaN(Date.parse(result.snapshotAt)), 'the snapshot time is recorded');
    const files = extract(result.archivePath!);
    const a = records(join(files, 'a.log'));
    const b = records(join(files, 'b.log'));
    assert.ok(a.length > 20_000, `a.log has ${a.length} records`);
    assert.ok(a.length - b.length === 0 || a.length - b.length === 1, `one instant: a.log has ${a.length} records, b.log ${b.length}`);
    b.forEach(([n, sum], i) => {
      assert.equal(n, i + 1, 'numbered without a gap');
      assert.equal(sum, check(n), `record ${n} is whole`);
    });
    await nothingLeft();
  });

  it('live: the same claim read live is said to be live, and its two files disagree by many records', async () => {
    await claim('journal-live');
    const result = await withWriter('journal-live', () => backupVolume(sb.kubeConfig, { context: 'sandbox', namespace, pvc: 'journal-live' }, settings({ consistency: 'live' }), 'snap-live'));
    assert.ok(result.status === 'success' || result.status === 'partial', `${result.stage}: ${result.message}`);
    assert.equal(result.consistency, 'live');
    assert.equal(result.snapshotName, undefined);
    const files = extract(result.archivePath!);
    const a = records(join(files, 'a.log'));
    const b = records(join(files, 'b.log'));
    // tar reads the two files in directory order, one after the other.
    assert.ok(Math.abs(b.length - a.length) > 1, `read at two moments: a.log has ${a.length} records, b.log ${b.length}`);
    await nothingLeft();
  });

  it('auto: reads a claim live when its driver has no VolumeSnapshotClass, and says why', async () => {
    const result = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'analytics', pvc: 'reports' }, settings(), 'snap-nfs');
    assert.equal(result.status, 'success', result.message);
    assert.equal(result.consistency, 'live');
    assert.match(result.consistencyNote ?? '', /not a CSI volume|no VolumeSnapshotClass/);
    await nothingLeft();
  });

  it('auto: a CSI claim whose driver has no VolumeSnapshotClass is read live; once a Retain class exists it is snapshotted, with a warning about what stays', async () => {
    await claim('cold', 'archive-hdd');
    const live = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace, pvc: 'cold' }, settings(), 'snap-hdd');
    assert.equal(live.status, 'success', live.message);
    assert.equal(live.consistency, 'live');
    assert.match(live.consistencyNote ?? '', /no VolumeSnapshotClass exists for its CSI driver hdd\.csi\.sandbox\.nkvm\.dev/);
    await sb.kubeConfig.makeApiClient(CustomObjectsApi).createClusterCustomObject({
      group: 'snapshot.storage.k8s.io',
      version: 'v1',
      plural: 'volumesnapshotclasses',
      body: { apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshotClass', metadata: { name: 'hdd-keep' }, driver: 'hdd.csi.sandbox.nkvm.dev', deletionPolicy: 'Retain' },
    });
    const kept = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace, pvc: 'cold' }, settings(), 'snap-retain');
    assert.equal(kept.status, 'success', `${kept.stage}: ${kept.message}`);
    assert.equal(kept.consistency, 'snapshot');
    assert.match(kept.warnings.join('\n'), /VolumeSnapshotClass hdd-keep has deletionPolicy Retain: deleting the snapshot leaves its VolumeSnapshotContent/);
    await nothingLeft();
  });

  it('snapshot: with a class that binds on first consumer, the temporary claim is provisioned for the helper that reads it', async () => {
    await sb.kubeConfig.makeApiClient(StorageV1Api).createStorageClass({
      body: { metadata: { name: 'standard-wffc' }, provisioner: 'disk.csi.sandbox.nkvm.dev', volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Delete' },
    });
    await core().createNamespacedPersistentVolumeClaim({ namespace, body: { metadata: { name: 'late' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard-wffc' } } });
    // Bound once its first pod is scheduled, as the class says.
    await core().createNamespacedPod({ namespace, body: { metadata: { name: 'late-writer' }, spec: { containers: [{ name: 'main', image: 'alpine:3.20', command: ['sh', '-c', 'echo hello > /data/hello.txt; sleep 3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'late' } }] } } });
    await eventually('the claim binds and the pod writes', async () => {
      const claim = await core().readNamespacedPersistentVolumeClaim({ name: 'late', namespace });
      return claim.status?.phase === 'Bound' && lineCount(join(sb.cluster.volumePath(namespace, 'late'), 'hello.txt')) === 1 ? true : undefined;
    }, 20_000);
    const result = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace, pvc: 'late' }, settings({ consistency: 'snapshot' }), 'snap-wffc');
    await core().deleteNamespacedPod({ name: 'late-writer', namespace, gracePeriodSeconds: 0 });
    assert.equal(result.status, 'success', `${result.stage}: ${result.message}`);
    assert.equal(result.consistency, 'snapshot');
    assert.equal(readFileSync(join(extract(result.archivePath!), 'hello.txt'), 'utf8'), 'hello\n');
    await nothingLeft();
  });

  it('snapshot: a claim that cannot be snapshotted fails at stage snapshot with the reason, and nothing is created', async () => {
    const emptyDir = mkdtempSync(join(sb.dir, 'refused-'));
    const result = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'analytics', pvc: 'reports' }, settings({ consistency: 'snapshot', backupDir: emptyDir }), 'snap-refused');
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'snapshot');
    assert.match(result.message, /not a CSI volume|no VolumeSnapshotClass/);
    assert.match(result.nextStep ?? '', /nkvm\.backup\.consistency "live"/);
    assert.deepEqual(readdirSync(emptyDir, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory()).map((e) => e.name), [], 'no archive, no partial file');
    await nothingLeft();
  });

  it("a snapshot that fails ends the backup at stage snapshot with the driver's error, and the snapshot is removed", async () => {
    sb.cluster.faults.inject({ kind: 'snapshotError', target: { pvc: 'archive-2019' }, message: 'rpc error: code = ResourceExhausted desc = snapshot quota exceeded' });
    const result = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace, pvc: 'archive-2019' }, settings({ consistency: 'snapshot' }), 'snap-error');
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'snapshot');
    assert.match(result.message, /snapshot quota exceeded/);
    assert.match(result.nextStep ?? '', /describe volumesnapshot nkvm-snap-archive-2019-/);
    await nothingLeft();
  });

  it('a snapshot that never becomes ready times out at stage snapshot; a cancel while waiting removes it too', async () => {
    sb.cluster.faults.inject({ kind: 'snapshotNeverReady', target: { pvc: 'archive-2019' } });
    const timedOut = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace, pvc: 'archive-2019' }, settings({ snapshotTimeoutSeconds: 5 }), 'snap-timeout');
    assert.equal(timedOut.status, 'failed');
    assert.equal(timedOut.stage, 'snapshot');
    assert.match(timedOut.message, /was not ready to use after 5 s/);
    assert.match(timedOut.nextStep ?? '', /nkvm\.backup\.snapshotTimeoutSeconds/);
    await nothingLeft();
    const abort = new AbortController();
    const cancelled = backupVolume(sb.kubeConfig, { context: 'sandbox', namespace, pvc: 'archive-2019' }, settings(), 'snap-cancel', {
      signal: abort.signal,
      onProgress: (p) => p.stage === 'snapshot' && setTimeout(() => abort.abort(), 500),
    });
    const result = await cancelled;
    assert.equal(result.status, 'cancelled');
    assert.equal(result.stage, 'snapshot');
    await nothingLeft();
  });
});

function extract(archive: string): string {
  const dir = mkdtempSync(join(archive, '..', 'x-'));
  execFileSync('tar', ['xzf', archive, '-C', dir]);
  return dir;
}

function records(file: string): [number, string][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [n, sum] = line.split(' ');
      return [Number(n), sum!];
    });
}

function lineCount(file: string): number {
  try {
    return readFileSync(file, 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
}
