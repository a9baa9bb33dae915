import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { runBackups, type BackupRunOptions } from '../../../src/core/backup/backupRun';
import type { BackupResult, BackupSettings } from '../../../src/core/backup/backupVolume';
import { loadBackupDigests } from '../../../src/core/archive/archiveDigestsHistory';
import { resolveHistoryChain } from '../../../src/core/history/historyChain';
import type { HistoryRecord } from '../../../src/core/history/historyRecord';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { MANIFEST_MEMBER } from '../../../src/core/incremental/incrementalManifest';
import { readManifest } from '../../../src/core/incremental/manifestMember';
import { openChain } from '../../../src/core/incremental/openChain';
import { verifyBackup } from '../../../src/core/archive/verifyArchive';
import { decodePodListing, encodePodListing } from '../../../src/core/incremental/podListingCodec';
import { TEST_HELPER_IMAGE } from '../helperImage';
import { runNkvm, sandboxEnv } from '../cli/runNkvm';
import { boundClaim } from '../restore/restoreFixture';
import { startSandbox, type SandboxFixture } from '../sandboxFixture';

const NS = 'media';
const pause = () => new Promise((r) => setTimeout(r, 20));
/**
 * A snapshot's cut is known to the second: files written in the cut's second are sent again by the next backup
 * (they could have changed after the cut within the same clock tick). Seeds settle past that second first.
 */
const settle = () => new Promise((r) => setTimeout(r, 1100));

describe(`incremental backups: the second backup of a volume sends what changed (${TEST_HELPER_IMAGE})`, function () {
  this.timeout(180_000);
  let sb: SandboxFixture;
  let history: HistoryStore;

  before(async () => {
    sb = await startSandbox();
    history = await HistoryStore.open(join(sb.dir, 'history.db'));
  });
  after(async () => {
    await history?.close();
    await sb?.stop();
  });

  async function backup(pvc: string, settings: Partial<BackupSettings> = {}, extra: Partial<BackupRunOptions> = {}): Promise<{ result: BackupResult; row: HistoryRecord }> {
    const run = await runBackups([{ context: 'sandbox', namespace: NS, pvc }], {
      kubeConfigFor: () => sb.kubeConfig,
      settings: { backupDir: join(sb.dir, 'backups'), helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20, ...settings },
      concurrency: 1,
      history,
      ...extra,
    });
    const result = run.results[0]!;
    assert.equal(result.status, 'success', `${result.message} ${result.nextStep ?? ''}`);
    const [row] = await history.byRun(run.runId);
    return { result, row: row! };
  }

  /** Names and content digests of every entry, as tar would restore them. */
  const shape = (entries: readonly { name: string; type: string; sha256?: string; mode: number; linkname?: string }[]) =>
    entries.map((e) => [e.name, e.type, e.mode.toString(8), e.linkname ?? '', e.sha256 ?? ''].join('|')).sort();

  it('builds on the last complete backup, sends only the changes with a manifest first, and records kind, base and counts', async () => {
    const root = await boundClaim(sb, NS, 'inc-a');
    mkdirSync(join(root, 'docs'));
    // Random data, which gzip cannot shrink: the archives' sizes are those of what they hold.
    for (let i = 0; i < 40; i++) writeFileSync(join(root, 'docs', `f${i}.txt`), randomBytes(5000));
    writeFileSync(join(root, 'docs', 'gone.txt'), 'to be deleted');
    writeFileSync(join(root, 'tool.sh'), '#!/bin/sh\n');
    mkdirSync(join(root, 'becomes-file'));
    writeFileSync(join(root, 'becomes-file', 'inner'), 'x');
    await settle();
    const first = await backup('inc-a');
    assert.equal(first.result.kind ?? 'full', 'full');
    assert.match(first.result.fullBecause ?? '', /first complete backup/);
    assert.equal(first.row.kind, 'full');
    const listing = await history.loadPodListing(first.row.id);
    assert.ok(listing && listing.entryCount >= 45, 'the full backup kept the volume listing as the next base');

    await pause();
    writeFileSync(join(root, 'docs', 'f3.txt'), 'rewritten\n');
    rmSync(join(root, 'docs', 'gone.txt'));
    writeFileSync(join(root, 'docs', 'new.txt'), 'new\n');
    chmodSync(join(root, 'tool.sh'), 0o755);
    rmSync(join(root, 'becomes-file'), { recursive: true });
    writeFileSync(join(root, 'becomes-file'), 'now a file');
    symlinkSync('docs/f1.txt', join(root, 'link'));
    const second = await backup('inc-a');
    assert.equal(second.result.kind, 'incremental', second.result.fullBecause);
    assert.equal(second.result.baseId, first.row.id);
    assert.equal(second.row.kind, 'incremental');
    assert.equal(second.row.baseId, first.row.id);
    const kept = JSON.parse(second.row.increment ?? '{}');
    assert.deepEqual(kept.chain.map((r: { id: number }) => r.id), [first.row.id], 'the history keeps the manifest, less the deleted paths');
    assert.equal(kept.deleted, undefined);
    const counts = kept.counts;
    assert.deepEqual(
      { changed: counts.changed, added: counts.added, typeChanged: counts.typeChanged, deleted: counts.deleted },
      { changed: 4, added: 2, typeChanged: 1, deleted: 2 },
      'f3, tool.sh, the root and docs folders whose content changed; new.txt and link; becomes-file; gone.txt and becomes-file/inner',
    );
    assert.ok(second.row.sizeBytes! * 10 < first.row.sizeBytes!, `the incremental archive (${second.row.sizeBytes} bytes) is far smaller than the full one (${first.row.sizeBytes})`);
    const manifest = await readManifest(second.row.backupPath!);
    assert.deepEqual(manifest?.chain.map((r) => r.id), [first.row.id]);
    assert.equal(manifest?.base.sha256, first.row.checksum);
    const listed = spawnSync('tar', ['-tzf', second.row.backupPath!], { encoding: 'utf8' });
    assert.equal(listed.status, 0, listed.stderr);
    assert.equal(listed.stdout.split('\n')[0], MANIFEST_MEMBER, 'a standard .tar.gz whose first member is the manifest');

    // The chain as the history gives it restores the volume as it is now, and drills compare with that.
    const chain = await openChain(await resolveHistoryChain(history, second.row.id));
    const now = spawnSync('find', ['.', '-mindepth', '1'], { cwd: root, encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map((p) => p.slice(2)).filter((p) => p !== 'lost+found' && !p.startsWith('lost+found/')).sort();
    assert.deepEqual([...chain.tree.sources.keys()].filter((p) => p !== '').sort(), now);
    // Verify reads the whole chain and checks that it holds exactly the entries the backup listed.
    const verified = await verifyBackup(history, second.row);
    assert.equal(verified.outcome, 'ok', verified.message);
    assert.match(verified.message, new RegExp(`together they hold the ${chain.tree.sources.size} entries the backup listed`));
    const stored = (await history.loadPodListing(second.row.id))!;
    const recorded = decodePodListing(stored.listing);
    const other = encodePodListing({ ...recorded, entries: recorded.entries.filter((e) => e.name !== 'docs/new.txt') });
    await history.savePodListing({ ...stored, listing: other.bytes, sha256: other.sha256 });
    const mismatch = await verifyBackup(history, second.row);
    assert.equal(mismatch.outcome, 'damaged');
    assert.match(mismatch.message, /does not restore the volume its backup listed: the manifest names listing/);
    await history.savePodListing(stored);
    const digests = await loadBackupDigests(history, second.row.id);
    const fresh = await backup('inc-a', {}, { incremental: 'full' });
    assert.equal(fresh.result.kind ?? 'full', 'full');
    assert.equal(fresh.result.fullBecause, 'a full backup was asked for');
    const freshDigests = await loadBackupDigests(history, fresh.row.id);
    assert.deepEqual(shape(digests!.entries.filter((e) => e.name !== '')), shape(freshDigests!.entries.filter((e) => e.name !== '')), 'the recorded point in time equals a full backup of the same volume');
  });

  it('sends an empty change set when nothing changed, in every compression mode', async () => {
    const root = await boundClaim(sb, NS, 'inc-b');
    writeFileSync(join(root, 'a.txt'), 'a\n'.repeat(10_000));
    for (const compression of ['pod-gzip', 'local-gzip', 'none'] as const) {
      await settle();
      await backup('inc-b', { compression }, { incremental: 'full' });
      await pause();
      const unchanged = await backup('inc-b', { compression });
      assert.equal(unchanged.result.kind, 'incremental', `${compression}: ${unchanged.result.fullBecause}`);
      const counts = JSON.parse(unchanged.row.increment!).counts;
      assert.equal(counts.sentEntries, 0, compression);
      const tar = spawnSync('tar', [compression === 'none' ? '-tf' : '-tzf', unchanged.row.backupPath!], { encoding: 'utf8' });
      assert.equal(tar.status, 0, `${compression}: ${tar.stderr}`);
      assert.deepEqual(tar.stdout.trim().split('\n'), [MANIFEST_MEMBER], compression);

      writeFileSync(join(root, 'a.txt'), `changed for ${compression}\n`);
      await pause();
      const changed = await backup('inc-b', { compression });
      assert.equal(changed.result.kind, 'incremental', compression);
      const members = spawnSync('tar', [compression === 'none' ? '-tf' : '-tzf', changed.row.backupPath!], { encoding: 'utf8' }).stdout.trim().split('\n');
      assert.deepEqual(members, [MANIFEST_MEMBER, './a.txt'], `${compression}: ${changed.row.increment} ${changed.row.message}`);
    }
  });

  it('reading the volume live, also sees a file rewritten with its size and mtime put back (by its ctime)', async () => {
    const root = await boundClaim(sb, NS, 'inc-live');
    writeFileSync(join(root, 'same-size.txt'), 'AAAA');
    writeFileSync(join(root, 'other.txt'), 'other');
    await settle();
    const live = { consistency: 'live' as const };
    await backup('inc-live', live);
    await pause();
    const unchanged = await backup('inc-live', live);
    assert.equal(unchanged.result.consistency, 'live');
    assert.equal(JSON.parse(unchanged.row.increment!).counts.sentEntries, 0, 'nothing changed, nothing sent');
    const { mtime } = statSync(join(root, 'same-size.txt'));
    writeFileSync(join(root, 'same-size.txt'), 'BBBB');
    utimesSync(join(root, 'same-size.txt'), mtime, mtime);
    const rewritten = await backup('inc-live', live);
    assert.deepEqual(JSON.parse(rewritten.row.increment!).counts.changed, 1);
    const members = spawnSync('tar', ['-tzf', rewritten.row.backupPath!], { encoding: 'utf8' }).stdout.trim().split('\n');
    assert.deepEqual(members, [MANIFEST_MEMBER, './same-size.txt']);
  });

  it('makes a full backup, saying why, after fullEvery incrementals, on "never", when the paths change or a base archive is gone', async () => {
    const root = await boundClaim(sb, NS, 'inc-c');
    mkdirSync(join(root, 'logs'));
    writeFileSync(join(root, 'logs', 'l.txt'), 'log');
    writeFileSync(join(root, 'data.txt'), 'data');
    const base = await backup('inc-c', { fullEvery: 1 });
    const one = await backup('inc-c', { fullEvery: 1 });
    assert.equal(one.result.kind, 'incremental');
    const capped = await backup('inc-c', { fullEvery: 1 });
    assert.equal(capped.result.kind ?? 'full', 'full');
    assert.match(capped.result.fullBecause ?? '', new RegExp(`1 incremental backups follow the full backup #${base.row.id} \\(nkvm.backup.fullEvery is 1\\)`));
    const asked = await backup('inc-c', { fullEvery: 1 }, { incremental: 'incremental' });
    assert.equal(asked.result.kind, 'incremental', '--incremental builds on the last backup whatever the run length');

    const never = await backup('inc-c', { incremental: 'never' });
    assert.match(never.result.fullBecause ?? '', /nkvm.backup.incremental is "never"/);
    const narrowed = await backup('inc-c', { backupExclude: ['logs'] });
    assert.match(narrowed.result.fullBecause ?? '', /include\/exclude paths changed/);
    const sameSet = await backup('inc-c', { backupExclude: ['logs'] });
    assert.equal(sameSet.result.kind, 'incremental');

    renameSync(narrowed.row.backupPath!, `${narrowed.row.backupPath}.moved`);
    const missing = await backup('inc-c', { backupExclude: ['logs'] });
    assert.equal(missing.result.kind ?? 'full', 'full');
    assert.match(missing.result.fullBecause ?? '', new RegExp(`archive of backup #${narrowed.row.id} is missing`));
    assert.ok(statSync(missing.row.backupPath!).size > 0);
  });

  it('`nkvm backup --json` reports the kind, the base, the bytes sent and the counts', async () => {
    const root = await boundClaim(sb, NS, 'inc-cli');
    writeFileSync(join(root, 'one.txt'), 'one');
    writeFileSync(join(root, 'two.txt'), 'two');
    await settle();
    const env = { ...sandboxEnv(sb), NKVM_HELPER_IMAGE: TEST_HELPER_IMAGE };
    const first = await runNkvm(['backup', `${NS}/inc-cli`, '--json'], { cwd: sb.dir, env });
    assert.equal(first.code, 0, first.stderr);
    const full = JSON.parse(first.stdout).results[0];
    assert.equal(full.kind, 'full');
    assert.equal(full.baseId, null);
    await pause();
    rmSync(join(root, 'two.txt'));
    writeFileSync(join(root, 'three.txt'), 'three');
    const second = await runNkvm(['backup', `${NS}/inc-cli`, '--json'], { cwd: sb.dir, env });
    assert.equal(second.code, 0, second.stderr);
    const inc = JSON.parse(second.stdout).results[0];
    assert.equal(inc.kind, 'incremental');
    assert.equal(typeof inc.baseId, 'number');
    assert.equal(inc.sentBytes, inc.sizeBytes);
    assert.deepEqual({ changed: inc.changed, unchanged: inc.unchanged, deleted: inc.deleted }, { changed: 2, unchanged: 1, deleted: 1 }, 'three.txt and the root folder; one.txt; two.txt');
    assert.equal(inc.listing, undefined, 'listings stay in the history');
    const text = await runNkvm(['backup', `${NS}/inc-cli`, '--full'], { cwd: sb.dir, env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /full: a full backup was asked for/);
    const listed = await runNkvm(['history', '--limit', '3'], { cwd: sb.dir, env });
    assert.match(listed.stdout, new RegExp(`^\\d+\\s.*\\sincr\\. on #${inc.baseId}\\s`, 'm'), 'nkvm history names the kind and the base');
  });
});
