import { CoreV1Api, type V1ObjectMeta } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyRecordOf, runBackups } from '../../../src/core/backup/backupRun';
import { readLease } from '../../../src/core/backup/helperOwner';
import { backupVolume, type BackupSettings } from '../../../src/core/backup/backupVolume';
import { runRestoreDrill, type DrillRequest } from '../../../src/core/drill/restoreDrill';
import type { HistoryRecord } from '../../../src/core/history/historyRecord';
import { HistoryStore } from '../../../src/core/history/historyStore';
import type { RestoreSettings } from '../../../src/core/restore/restoreVolume';
import { TEST_HELPER_IMAGE } from '../helperImage';
import { boundClaim, leftoverHelpers, seedTree } from '../restore/restoreFixture';
import { SandboxFixture, startSandbox } from '../sandboxFixture';

describe('restore drills: a backup restored into a temporary claim and compared file by file', function () {
  this.timeout(240_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;
  let history: HistoryStore;
  const settings: RestoreSettings = { helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20 };
  let randomFile: Buffer;

  before(async () => {
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
    history = await HistoryStore.open(join(sb.dir, 'history.db'));
    const root = await boundClaim(sb, 'media', 'drill-src');
    seedTree(root);
    // Random data: gzip stores it in stored blocks, where one flipped byte changes only that file's data.
    randomFile = Buffer.from(Array.from({ length: 600_000 }, () => Math.floor(Math.random() * 256)));
    writeFileSync(join(root, 'docs', 'random.bin'), randomFile);
    writeFileSync(join(root, 'zz-after.txt'), 'an entry after the random file\n');
    // Names are bytes: a newline in one, a byte that is not UTF-8 in another, both must round-trip.
    const odd = [Buffer.from(join(root, 'new\nline.txt')), Buffer.concat([Buffer.from(join(root, 'latin')), Buffer.from([0xe9])])];
    for (const name of odd) {
      writeFileSync(name, 'odd name\n');
      chownSync(name, 65534, 65534);
    }
    chownSync(join(root, 'docs', 'random.bin'), 65534, 65534);
    chownSync(join(root, 'zz-after.txt'), 65534, 65534);
  });
  afterEach(async () => {
    sb.cluster.faults.clear();
    assert.deepEqual(await leftoverHelpers(core), [], 'no helper pod is left behind');
    const claims = (await core.listPersistentVolumeClaimForAllNamespaces({ labelSelector: 'app.kubernetes.io/component=restore-drill' })).items;
    assert.deepEqual(claims.map((c) => c.metadata?.name), [], 'no drill claim is left behind');
  });
  after(async () => {
    await history?.close();
    await sb?.stop();
  });

  /** A backup in the history, with the listing recorded from the archive as it was written. */
  async function backup(compression: 'pod-gzip' | 'none', recordListing = true): Promise<HistoryRecord> {
    // Full backups: the drills below damage the random file's data inside this very archive.
    const backupSettings: BackupSettings = { backupDir: join(sb.dir, 'backups'), helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20, compression, incremental: 'never' };
    if (!recordListing) {
      // As a backup made before listings were recorded: the history row alone.
      const result = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'media', pvc: 'drill-src' }, backupSettings, 'no-listing');
      assert.equal(result.status, 'success', result.message);
      return (await history.get(await history.append(historyRecordOf(result))))!;
    }
    const run = await runBackups([{ context: 'sandbox', namespace: 'media', pvc: 'drill-src' }], { kubeConfigFor: () => sb.kubeConfig, settings: backupSettings, concurrency: 1, history });
    assert.equal(run.results[0]!.status, 'success', run.results[0]!.message);
    const [row] = await history.byRun(run.runId);
    assert.ok(await history.loadBackupDigests(row!.id), 'the backup recorded its listing as the archive arrived');
    return row!;
  }
  const drill = (row: HistoryRecord, extra: Partial<DrillRequest> = {}, signal?: AbortSignal) =>
    runRestoreDrill(sb.kubeConfig, { archivePath: row.backupPath!, backup: row, context: 'sandbox', namespace: 'media', ...extra }, { settings, history, signal });

  /** Flips one byte inside the random file's data as it lies in the archive (plain, or a gzip stored block). */
  function flipInsideRandomFile(archivePath: string): void {
    const bytes = readFileSync(archivePath);
    const at = bytes.indexOf(randomFile.subarray(300_000, 300_064));
    assert.ok(at > 0, 'the random data lies in the archive as is');
    bytes[at + 10] ^= 0x01;
    writeFileSync(archivePath, bytes);
  }

  it('a good backup passes: every entry matches the backup-time listing, the outcome is on its history row', async () => {
    const row = await backup('pod-gzip');
    const result = await drill(row);
    assert.equal(result.outcome, 'ok', result.message);
    assert.equal(result.reference, 'backup');
    assert.equal(result.checksum.matches, true);
    assert.equal(result.comparison?.total, 0);
    assert.ok(result.comparison!.compared >= 15, result.message);
    assert.equal(result.comparison?.ownersNotCompared, 0, 'every file belongs to the helper\'s user, so every owner was compared');
    assert.match(result.message, /all \d+ entries match the listing recorded when the backup was made/);
    const saved = await history.get(row.id);
    assert.equal(saved?.drillOutcome, 'ok');
    assert.equal(saved?.drillMessage, result.message);
    assert.ok(saved?.drilledAt);
  });

  it('a plain .tar with a byte flipped inside a file names that file, and says the archive changed since the backup', async () => {
    const row = await backup('none');
    flipInsideRandomFile(row.backupPath!);
    const result = await drill(row);
    assert.equal(result.outcome, 'differs', result.message);
    assert.equal(result.checksum.matches, false);
    assert.deepEqual(result.comparison?.differences.map((d) => [d.kind, d.path]), [['content', 'docs/random.bin']]);
    assert.deepEqual(result.archiveDifferences?.differences.map((d) => [d.kind, d.path]), [['content', 'docs/random.bin']]);
    assert.match(result.message, /differs from the one recorded at backup time/);
    assert.equal((await history.get(row.id))?.drillOutcome, 'differs');
  });

  it('a .tar.gz whose flip lands in a stored block of random data names that file', async () => {
    const row = await backup('pod-gzip');
    flipInsideRandomFile(row.backupPath!);
    const result = await drill(row);
    assert.equal(result.outcome, 'differs', result.message);
    assert.deepEqual(result.archiveDifferences?.differences.map((d) => [d.kind, d.path]), [['content', 'docs/random.bin']]);
    assert.match(result.message, /content docs\/random\.bin/);
  });

  it('a backup without a recorded listing is drilled against the archive, and the message says so', async () => {
    const row = await backup('pod-gzip', false);
    const result = await drill(row);
    assert.equal(result.outcome, 'ok', result.message);
    assert.equal(result.reference, 'archive');
    assert.match(result.message, /the archive's own listing \(this backup recorded none/);
  });

  it('a drill that fails after its claim was made deletes the claim and records the failure', async () => {
    const row = await backup('pod-gzip');
    sb.cluster.faults.inject({ kind: 'execExitCode', target: { namespace: 'analytics', pod: 'nkvm-*' }, code: 2 });
    const result = await drill(row, { namespace: 'analytics' });
    assert.equal(result.outcome, 'failed', result.message);
    assert.equal(result.namespace, 'analytics');
    assert.equal(result.claimRemoved, true);
    assert.match(result.message, /did not complete/);
    assert.equal((await history.get(row.id))?.drillOutcome, 'failed');
  });

  it('a cancelled drill leaves no claim and no helper, and keeps the last outcome on the row', async () => {
    const row = await backup('pod-gzip');
    await drill(row);
    const controller = new AbortController();
    let created: V1ObjectMeta | undefined;
    const stop = sb.cluster.store.subscribe((e) => {
      if (!created && e.type === 'ADDED' && e.object.metadata.labels?.['app.kubernetes.io/component'] === 'restore-drill') {
        created = structuredClone(e.object.metadata) as V1ObjectMeta;
        setTimeout(() => controller.abort(new Error('cancelled by the test')), 50);
      }
    });
    const result = await drill(row, {}, controller.signal);
    stop?.();
    assert.ok(created, 'the drill got as far as making its claim');
    // What a leftover sweep goes by if the process dies: nkvm's labels, the run of its helper, a lease.
    assert.equal(created.labels?.['app.kubernetes.io/managed-by'], 'nerdy-k8s-volume-manager');
    assert.ok(created.labels?.['nkvm.dev/run-id']);
    assert.ok(readLease({ metadata: created }), 'the claim carries a lease');
    assert.equal(result.outcome, 'cancelled', result.message);
    assert.equal((await history.get(row.id))?.drillOutcome, 'ok');
  });
});
