import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { backupVolume, type BackupSettings } from '../../../src/core/backup/backupVolume';
import { preflightVolumes } from '../../../src/core/preflight/preflightVolumes';
import { restoreVolume } from '../../../src/core/restore/restoreVolume';
import { SandboxFixture, startSandbox } from '../sandboxFixture';

/** Images a cluster may be told to use that cannot run the helper: none has a shell, or one lacks tar. */
const DISTROLESS = 'gcr.io/distroless/static-debian12';
const NO_TAR = 'sandbox.nkvm.test/no-tar:1';

describe('helper images without a shell or without tar', function () {
  this.timeout(120_000);
  let sb: SandboxFixture;
  let runs = 0;
  let archivePath: string;
  const target = { context: 'sandbox', namespace: 'media', pvc: 'archive-2019' };
  const settingsFor = (helperImage: string): BackupSettings => ({ backupDir: join(sb.dir, `backups-${++runs}`), helperImage, helperPodTimeoutSeconds: 20 });
  const helpers = async () => (await sb.kubeConfig.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'media', labelSelector: 'app.kubernetes.io/component=backup-helper' })).items.map((p) => p.metadata?.name);

  before(async () => {
    sb = await startSandbox();
    const made = await backupVolume(sb.kubeConfig, target, settingsFor('alpine:3.20'), 'source');
    assert.equal(made.status, 'success', made.message);
    archivePath = made.archivePath!;
  });
  after(async () => sb?.stop());

  it('a backup with a distroless image fails at wait, saying the image has no shell and which images work', async () => {
    const result = await backupVolume(sb.kubeConfig, target, settingsFor(DISTROLESS), 'distroless');
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'wait', result.message);
    assert.match(result.message, /its image has no sh to run the helper's command/);
    assert.match(result.nextStep ?? '', /"gcr\.io\/distroless\/static-debian12" has no shell \(sh\).*nkvm\.helperImage.*alpine:3\.20/);
    assert.deepEqual(await helpers(), []);
  });

  it('a backup with an image that has a shell but no tar fails at exec, naming tar, without hanging', async () => {
    const result = await backupVolume(sb.kubeConfig, target, settingsFor(NO_TAR), 'no-tar');
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'exec', result.message);
    assert.match(result.message, /the helper image has no tar/);
    assert.match(result.nextStep ?? '', /has no tar.*debian:12-slim/);
    assert.equal(result.archivePath, undefined);
    assert.deepEqual(await helpers(), []);
  });

  it('a restore with an image without tar fails at upload, naming tar, and removes the new claim', async () => {
    const result = await restoreVolume(sb.kubeConfig, { archivePath, target: { ...target, pvc: 'no-tar-copy' }, createClaim: {} }, settingsFor(NO_TAR), 'no-tar-restore');
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'upload', result.message);
    assert.match(result.message, /the helper image has no tar/);
    const claims = await sb.kubeConfig.makeApiClient(CoreV1Api).listNamespacedPersistentVolumeClaim({ namespace: 'media' });
    assert.ok(!claims.items.some((c) => c.metadata?.name === 'no-tar-copy'));
  });

  it('Preflight blocks both images before any backup, with the same next step', async () => {
    for (const [image, missing] of [
      [DISTROLESS, /no sh/],
      [NO_TAR, /has no tar, gzip/],
      ['registry.access.redhat.com/ubi9/ubi-minimal:9.5', /has no tar\..*microdnf install -y tar gzip/],
    ] as const) {
      const [report] = await preflightVolumes(sb.kubeConfig, [{ namespace: 'media', pvc: 'archive-2019' }], { helperImage: image, helperPodTimeoutSeconds: 20 });
      assert.equal(report!.verdict, 'blocked', image);
      assert.match(report!.reasons.join('\n'), missing);
      assert.match(report!.reasons.join('\n'), /nkvm\.helperImage/);
    }
    assert.deepEqual(await helpers(), []);
  });
});
