import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { backupVolume, type BackupSettings } from '../../../src/core/backup/backupVolume';
import { findResourceType } from '../../sandbox/resourceTypes';
import { runNkvm, sandboxEnv } from '../cli/runNkvm';
import { TEST_HELPER_IMAGE } from '../helperImage';
import { eventually, requireKubectl, SandboxFixture, startSandbox } from '../sandboxFixture';

const podsType = findResourceType('', 'v1', 'pods')!;

/** Velero's backup hook annotations on the pod that mounts the claim. */
function hookedPod(name: string, claim: string, annotations: Record<string, string>): V1Pod {
  return {
    metadata: { name, annotations },
    spec: { containers: [{ name: 'app', image: 'alpine:3.20', command: ['sleep', 'infinity'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }], volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }] },
  };
}

describe('application hooks around point-in-time backups', function () {
  this.timeout(120_000);
  let sb: SandboxFixture;
  const namespace = 'media';
  const settings = (extra: Partial<BackupSettings> = {}): BackupSettings => ({ backupDir: mkdtempSync(join(sb.dir, 'backups-')), helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 30, ...extra });
  const core = () => sb.kubeConfig.makeApiClient(CoreV1Api);

  before(async () => (sb = await startSandbox()));
  after(async () => sb?.stop());

  async function claimMountedBy(claim: string, annotations: Record<string, string>): Promise<string> {
    await core().createNamespacedPersistentVolumeClaim({ namespace, body: { metadata: { name: claim }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' } } });
    await core().createNamespacedPod({ namespace, body: hookedPod(`app-${claim}`, claim, annotations) });
    await eventually('the app runs', async () => ((await core().readNamespacedPod({ name: `app-${claim}`, namespace })).status?.phase === 'Running' ? true : undefined), 20_000);
    return sb.cluster.volumePath(namespace, claim);
  }

  it('runs the pre hook before the snapshot (its marker is in the archive) and the post hook right after it (its marker is not)', async () => {
    const volume = await claimMountedBy('hooked', {
      'pre.hook.backup.velero.io/command': '["/bin/sh","-c","date > /data/.nkvm-hook"]',
      'post.hook.backup.velero.io/command': '["/bin/sh","-c","date > /data/.nkvm-post"]',
    });
    const result = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace, pvc: 'hooked' }, settings({ consistency: 'snapshot' }), 'hooked');
    assert.equal(result.status, 'success', `${result.stage}: ${result.message}`);
    assert.equal(result.consistency, 'snapshot');
    assert.deepEqual(result.hooks?.map((h) => [h.phase, h.pod, h.container, h.outcome, h.exitCode]), [
      ['pre', 'app-hooked', 'app', 'ok', 0],
      ['post', 'app-hooked', 'app', 'ok', 0],
    ]);
    const listed = execFileSync('tar', ['tzf', result.archivePath!], { encoding: 'utf8' }).split('\n');
    assert.ok(listed.includes('./.nkvm-hook'), 'the pre hook wrote before the snapshot was cut');
    assert.ok(!listed.includes('./.nkvm-post'), 'the post hook ran after the cut');
    assert.ok(existsSync(join(volume, '.nkvm-post')), 'the post hook ran');
    assert.equal(result.warnings.filter((w) => /held it for the whole live read/.test(w)).length, 0);
  });

  it('with live reading, the hooks wrap the whole read and the report says how long the application was held', async () => {
    await claimMountedBy('hooked-live', { 'pre.hook.backup.velero.io/command': '["/bin/true"]', 'post.hook.backup.velero.io/command': '["/bin/true"]' });
    const result = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace, pvc: 'hooked-live' }, settings({ consistency: 'live' }), 'hooked-live');
    assert.equal(result.status, 'success', `${result.stage}: ${result.message}`);
    assert.match(result.warnings.join('\n'), /pre hooks held it for the whole live read \(\d+\.\d s until its post hooks ran\)/);
  });

  it('a failing pre hook with on-error Fail stops the backup at stage hook and creates nothing', async () => {
    const dir = mkdtempSync(join(sb.dir, 'failed-'));
    await claimMountedBy('hook-fails', {
      'pre.hook.backup.velero.io/command': '["/bin/sh","-c","echo cannot lock tables >&2; exit 3"]',
      'pre.hook.backup.velero.io/on-error': 'Fail',
      'post.hook.backup.velero.io/command': '["/bin/sh","-c","date > /data/.nkvm-post"]',
    });
    const before = sb.cluster.requests.length;
    const result = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace, pvc: 'hook-fails' }, settings({ backupDir: dir }), 'hook-fails');
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'hook');
    assert.match(result.message, /pre hook in media\/app-hook-fails failed: the command exited with code 3/);
    assert.match(result.evidence.join('\n'), /pre hook in media\/app-hook-fails \(app\): exit 3/);
    assert.equal(result.hooks?.[0]?.stderr, 'cannot lock tables\n');
    const created = sb.cluster.requests.slice(before).filter((r) => r.method === 'POST' && !r.path.includes('/exec') && !r.path.includes('selfsubject'));
    assert.deepEqual(created.map((r) => r.path), [], 'no snapshot, claim or helper was created');
    assert.deepEqual(readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory()).map((e) => e.name), [], 'no archive');
    assert.ok(!existsSync(join(sb.cluster.volumePath(namespace, 'hook-fails'), '.nkvm-post')), "as Velero: no post hook for a pod whose pre hook failed");
  });

  it('nkvm backup --consistency snapshot --json reports the consistency, and kubectl then finds no VolumeSnapshot', async function () {
    requireKubectl(this);
    const r = await runNkvm(['backup', 'media/archive-2019', '--consistency', 'snapshot', '--json'], { cwd: sb.dir, env: sandboxEnv(sb) });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const [result] = JSON.parse(r.stdout).results;
    assert.equal(result.consistency, 'snapshot');
    assert.match(result.snapshotName, /^nkvm-snap-archive-2019-/);
    const [row] = JSON.parse((await runNkvm(['history', '--json', '--limit', '1'], { cwd: sb.dir, env: sandboxEnv(sb) })).stdout);
    assert.deepEqual([row.consistency, row.snapshotName, Date.parse(row.snapshotAt)], ['snapshot', result.snapshotName, Date.parse(result.snapshotAt)], 'the history keeps how the volume was read');
    // The sandbox answers from this process: kubectl runs without blocking it.
    const listed = await promisify(execFile)('kubectl', ['--kubeconfig', sb.kubeconfigPath, 'get', 'volumesnapshots', '-A']);
    assert.equal(listed.stdout, '');
    assert.match(listed.stderr, /^No resources found$/m);
    const helpers = sb.cluster.store.list(podsType).filter((p) => p.metadata?.labels?.['app.kubernetes.io/component'] === 'backup-helper');
    assert.deepEqual(helpers, []);
    const bad = await runNkvm(['backup', 'media/archive-2019', '--consistency', 'frozen'], { cwd: sb.dir, env: sandboxEnv(sb) });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--consistency is auto, snapshot or live, got "frozen"/);
  });
});
