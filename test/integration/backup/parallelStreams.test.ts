import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { digestArchiveFile } from '../../../src/core/archive/archiveDigests';
import { verifyArchive } from '../../../src/core/archive/verifyArchive';
import { backupVolume, type BackupProgress, type BackupResult, type BackupSettings } from '../../../src/core/backup/backupVolume';
import { runRestore } from '../../../src/core/restore/restoreRun';
import { TEST_HELPER_IMAGE } from '../helperImage';
import { startSandbox, type SandboxFixture } from '../sandboxFixture';
import { contentTree } from '../treeListing';
import { boundClaim, leftoverHelpers, seedTree } from '../restore/restoreFixture';

const NS = 'media';
const MB = 1024 * 1024;
const HELPERS = { namespace: NS, pod: 'nkvm-backup-*' };

describe(`backing up a volume in parts over several streams (${TEST_HELPER_IMAGE})`, function () {
  this.timeout(180_000);
  let sb: SandboxFixture;
  let root: string;
  let runs = 0;

  before(async () => {
    sb = await startSandbox();
    root = await boundClaim(sb, NS, 'bulk');
    seedTree(root);
    mkdirSync(join(root, 'media'));
    for (let i = 0; i < 16; i++) writeFileSync(join(root, 'media', `clip-${i}.bin`), randomBytes(2.5 * MB));
    // Alone in its part: the one part that reaches the cuts of 9 MB below.
    writeFileSync(join(root, 'media', 'large.bin'), randomBytes(12 * MB));
    execFileSync('chown', ['-R', '65534:65534', root]);
  });
  afterEach(() => sb.cluster.faults.clear());
  after(async () => sb?.stop());

  const settings = (extra: Partial<BackupSettings> = {}): BackupSettings => ({
    backupDir: join(sb.dir, `backups-${++runs}`),
    helperImage: TEST_HELPER_IMAGE,
    helperPodTimeoutSeconds: 20,
    consistency: 'live',
    streams: 4,
    retry: { attempts: 4, firstDelayMs: 50 },
    ...extra,
  });
  const backUp = (s: BackupSettings, onProgress?: (p: BackupProgress) => void): Promise<BackupResult> =>
    backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: NS, pvc: 'bulk' }, s, `parts-${runs}`, { onProgress });

  /** The archive reads back whole, lists what the backup listed, and `tar` alone restores the volume from it. */
  async function assertRestoresByHand(result: BackupResult): Promise<void> {
    assert.equal(result.status, 'success', `${result.message} ${result.nextStep ?? ''}`);
    const verified = await verifyArchive(result.archivePath!, { sha256: result.checksum, sizeBytes: result.sizeBytes });
    assert.equal(verified.outcome, 'ok', verified.message);
    const listed = await digestArchiveFile(result.archivePath!);
    assert.deepEqual(listed.entries, result.digests!.entries);
    const byHand = join(sb.dir, `by-hand-${runs}`);
    mkdirSync(byHand);
    execFileSync('tar', ['xzf', result.archivePath!, '-C', byHand]);
    assert.deepEqual(contentTree(byHand), contentTree(root));
    assert.deepEqual(readdirSync(join(result.archivePath!, '..')), [result.archivePath!.split('/').pop()], 'no part is left beside the archive');
    assert.deepEqual(await leftoverHelpers(sb.kubeConfig.makeApiClient(CoreV1Api)), []);
  }

  it('sends a large volume over four streams into one .tar.gz that restores byte for byte, through nkvm and by hand', async () => {
    const seen: BackupProgress[] = [];
    const result = await backUp(settings(), (p) => seen.push(p));
    await assertRestoresByHand(result);
    assert.equal(result.streams, 4);
    assert.equal(result.resentBytes, 0);
    const busy = seen.filter((p) => p.parallel);
    assert.ok(busy.some((p) => p.parallel!.streams.length === 4 && p.parallel!.secondsLeft !== undefined), 'progress shows the four streams and the time left');
    assert.ok(busy.at(-1)!.parallel!.parts.done === busy.at(-1)!.parallel!.parts.total, 'every part done at the end');

    const restored = await runRestore(
      sb.kubeConfig,
      { archivePath: result.archivePath!, expectedSha256: result.checksum, target: { context: 'sandbox', namespace: NS, pvc: `bulk-restored-${runs}` }, createClaim: { storage: '1Gi', storageClassName: 'standard' } },
      { settings: { helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20 } },
    );
    assert.equal(restored.status, 'success', `${restored.message} ${restored.nextStep ?? ''}`);
    assert.deepEqual(contentTree(sb.cluster.volumePath(NS, `bulk-restored-${runs}`)), contentTree(root));
  });

  it('sends again only the part whose stream was cut in the middle of a large file, and the archive verifies', async () => {
    sb.cluster.faults.inject({ kind: 'execCut', target: HELPERS, afterBytes: 9 * MB, count: 1 });
    const seen: BackupProgress[] = [];
    const result = await backUp(settings(), (p) => seen.push(p));
    await assertRestoresByHand(result);
    // What arrived of the cut attempt, no more than the pod sent before the cut: one part, not the archive.
    assert.ok(result.resentBytes! > 4 * MB && result.resentBytes! <= 9 * MB, `sent again: ${result.resentBytes}`);
    assert.ok(seen.some((p) => /part \d+ again from its first file \(attempt 2/.test(p.parallel?.resuming ?? '')), 'progress says which part is sent again');
  });

  it('resumes when every stream is cut at once', async () => {
    sb.cluster.faults.inject({ kind: 'execCut', target: HELPERS, afterBytes: 1 * MB, count: 4 });
    const result = await backUp(settings());
    await assertRestoresByHand(result);
    assert.ok(result.resentBytes! > 0 && result.resentBytes! <= 4 * MB, `sent again: ${result.resentBytes}`);
  });

  it('sends again a part that arrived damaged, and the archive verifies', async () => {
    sb.cluster.faults.inject({ kind: 'execCorrupt', target: HELPERS, byteOffset: 3 * MB, count: 1 });
    const seen: BackupProgress[] = [];
    const result = await backUp(settings(), (p) => seen.push(p));
    await assertRestoresByHand(result);
    assert.ok(result.resentBytes! > 3 * MB, `sent again: ${result.resentBytes}`);
    assert.ok(seen.some((p) => /part \d+ again .*arrived damaged/.test(p.parallel?.resuming ?? '')), 'progress says the part arrived damaged');
  });

  it('fails at the copy stage with the cause and the next step once a part was cut as often as the retries allow, leaving nothing behind', async () => {
    sb.cluster.faults.inject({ kind: 'execCut', target: HELPERS, afterBytes: 1 * MB });
    const s = settings({ retry: { attempts: 2, firstDelayMs: 20 } });
    const result = await backUp(s);
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'copy');
    assert.match(result.message, /part \d+ could not be sent in 2 attempts; the last one: the stream broke after \d+ bytes/);
    assert.match(result.nextStep ?? '', /fewer streams \(nkvm\.backup\.streams\)/);
    assert.deepEqual(readdirSync(join(s.backupDir), { recursive: true }).filter((f) => String(f).includes('.tar')), []);
    assert.deepEqual(await leftoverHelpers(sb.kubeConfig.makeApiClient(CoreV1Api)), []);
  });
});
