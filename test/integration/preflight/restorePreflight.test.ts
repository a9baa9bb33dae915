import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { backupVolume } from '../../../src/core/backup/backupVolume';
import { resolveHelperSettings } from '../../../src/core/config/helperSettings';
import { preflightRestore } from '../../../src/core/preflight/restorePreflight';
import type { RestoreSettings } from '../../../src/core/restore/restoreVolume';
import { TEST_HELPER_IMAGE } from '../helperImage';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

describe('preflight of a restore (writes nothing)', function () {
  this.timeout(120_000);
  let sb: SandboxFixture;
  let archivePath: string;
  const namespace = 'media';
  const settings: RestoreSettings = { helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20 };
  const podNames = async () => (await sb.kubeConfig.makeApiClient(CoreV1Api).listPodForAllNamespaces()).items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).sort();

  before(async function () {
    if (process.getuid?.() !== 0) this.skip(); // files owned by the workload's user
    sb = await startSandbox();
    const backup = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'media', pvc: 'archive-2019' }, { backupDir: join(sb.dir, 'backups'), helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20 }, 'source');
    assert.equal(backup.status, 'success', backup.message);
    archivePath = backup.archivePath!;
  });
  after(async () => sb?.stop());

  async function claimOwnedBy(name: string, owner: string): Promise<string> {
    const core = sb.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedPersistentVolumeClaim({ namespace, body: { metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' } } });
    const path = await eventually('bound', async () => ((await core.readNamespacedPersistentVolumeClaim({ name, namespace })).status?.phase === 'Bound' ? sb.cluster.volumePath(namespace, name) : undefined));
    execFileSync('sh', ['-c', `cd '${path}' && mkdir -p app && echo v1 > app/state && chown -R ${owner} app`]);
    return path;
  }

  it('blocks a non-root helper from a claim whose files belong to another user, naming the owner and the setting', async () => {
    await claimOwnedBy('owned-by-999', '999:999');
    const before = await podNames();
    const report = await preflightRestore(sb.kubeConfig, { archivePath, target: { context: 'sandbox', namespace, pvc: 'owned-by-999' }, emptyFirst: true }, settings);
    assert.equal(report.verdict, 'blocked', report.reasons.join('\n'));
    assert.match(report.reasons.join('\n'), /belong to uid 999 \(1 entry\); the helper, running as uid 65534.*nkvm\.helper\.runAsUser, e\.g\. \{"media\/owned-by-999": "999:999"\}/s);
    assert.ok(report.probe?.ok && report.probe.volume, 'the target was looked at');
    assert.deepEqual(await podNames(), before, 'the probe pod is gone');
    assert.equal(execFileSync('cat', [join(sb.cluster.volumePath(namespace, 'owned-by-999'), 'app', 'state')], { encoding: 'utf8' }), 'v1\n', 'nothing was written');
  });

  it('is ready when the helper runs as the owner, and says how much room there is', async () => {
    await claimOwnedBy('owned-ok', '999:999');
    const helperPod = resolveHelperSettings({ runAsUser: { 'media/owned-ok': '999:999' } }, {});
    const report = await preflightRestore(sb.kubeConfig, { archivePath, target: { context: 'sandbox', namespace, pvc: 'owned-ok' } }, { ...settings, helperPod });
    assert.equal(report.verdict, 'ready', report.reasons.join('\n'));
    assert.match(report.helper.runAs ?? '', /uid 999, gid 999 \(from nkvm\.helper\.runAsUser\)/);
    assert.match(report.notes.join('\n'), /Room: .* of files to write, .* free/);
    assert.deepEqual(report.dryRun, { ok: true });
  });

  it('checks a new claim without creating it', async () => {
    const report = await preflightRestore(sb.kubeConfig, { archivePath, target: { context: 'sandbox', namespace, pvc: 'brand-new' }, createClaim: {} }, settings);
    assert.equal(report.verdict, 'ready', report.reasons.join('\n'));
    assert.equal(report.target?.exists, false);
    assert.match(report.notes.join('\n'), /new claim would be created/);
    const claims = await sb.kubeConfig.makeApiClient(CoreV1Api).listNamespacedPersistentVolumeClaim({ namespace });
    assert.ok(!claims.items.some((c) => c.metadata?.name === 'brand-new'));
  });

  it('blocks a damaged archive and a missing claim before any pod starts', async () => {
    const report = await preflightRestore(sb.kubeConfig, { archivePath: join(sb.dir, 'nope.tar.gz'), target: { context: 'sandbox', namespace, pvc: 'no-such-claim' } }, settings);
    assert.equal(report.verdict, 'blocked');
    assert.match(report.reasons.join('\n'), /cannot read the archive/);
    assert.match(report.reasons.join('\n'), /"no-such-claim" was not found/);
    assert.equal(report.probe, undefined);
  });
});
