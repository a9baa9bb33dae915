import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryStore } from '../../../src/core/history/historyStore';
import { consolidateBackup } from '../../../src/core/incremental/consolidateBackup';
import { buildChainOfThree, caseFolder, chainHistory, treeState, type LocalChainOfThree } from './chainBackupRows';
import { runTar, type Userland } from './localHelper';

const USERLANDS: Userland[] = ['busybox', 'gnu'];

for (const userland of USERLANDS) {
  describe(`consolidating an incremental backup into a full one (helper with ${userland} tools)`, function () {
    this.timeout(60_000);
    let work: string;
    let built: LocalChainOfThree;
    let folder: string;
    let history: HistoryStore;

    before(() => {
      work = mkdtempSync(join(tmpdir(), 'nkvm-consolidate-'));
      built = buildChainOfThree(work, userland);
    });
    after(() => rmSync(work, { recursive: true, force: true }));
    beforeEach(async () => {
      folder = caseFolder(work);
      history = await chainHistory(folder, built.chain);
    });
    afterEach(() => history.close());

    const archives = () => readdirSync(folder).filter((name) => /\.tar/.test(name)).sort();

    it('writes one archive that tar alone restores to the volume at that backup, recorded as a new full backup', async () => {
      await history.update(3, { consistency: 'snapshot', snapshotName: 'orders-snap', snapshotAt: '2026-03-03T09:59:58.000Z' });
      const listing = { recordedAt: '2026-03-03T10:00:00.000Z', entryCount: 7, sha256: 'a'.repeat(64), listing: new Uint8Array([1, 2, 3]) };
      await history.savePodListing({ historyId: 3, ...listing });
      await history.saveBackupDigests({ historyId: 3, recordedAt: listing.recordedAt, entryCount: 7, listing: new Uint8Array([4, 5]) });

      const result = await consolidateBackup(history, 3);
      const row = result.record;
      assert.deepEqual(result.from, [1, 2, 3]);
      assert.deepEqual(result.warnings, []);
      assert.equal(row.id, 4);
      assert.deepEqual(
        [row.operation, row.kind, row.baseId, row.status, row.context, row.namespace, row.pvcName, row.createdAt],
        ['backup', 'full', null, 'success', 'prod', 'shop', 'orders', '2026-03-03T10:00:00.000Z'],
      );
      assert.deepEqual([row.consistency, row.snapshotName, row.snapshotAt], ['snapshot', 'orders-snap', '2026-03-03T09:59:58.000Z']);
      assert.equal(row.message, 'Consolidated from backups #1, #2, #3');
      assert.equal(row.backupPath, join(folder, 'orders-3-full.tar.gz'));
      const bytes = readFileSync(row.backupPath!);
      assert.equal(row.checksum, createHash('sha256').update(bytes).digest('hex'));
      assert.equal(row.sizeBytes, bytes.length);
      assert.deepEqual(archives(), ['orders-1.tar.gz', 'orders-2.tar.gz', 'orders-3-full.tar.gz', 'orders-3.tar.gz']);

      for (const tar of ['gnu', 'busybox'] as const) {
        const dest = join(folder, `restored-${tar}`);
        mkdirSync(dest);
        const x = runTar(tar, ['-xzf', row.backupPath!], dest);
        assert.equal(x.status, 0, x.stderr);
        assert.deepEqual(treeState(dest), built.states[2], `restored with ${tar} tar`);
      }

      const copied = await history.loadPodListing(4);
      const { historyId, recordedAt, entryCount, sha256 } = copied!;
      assert.deepEqual({ historyId, recordedAt, entryCount, sha256 }, { historyId: 4, recordedAt: listing.recordedAt, entryCount: 7, sha256: listing.sha256 });
      assert.deepEqual([...copied!.listing], [1, 2, 3]);
      assert.deepEqual([...(await history.loadBackupDigests(4))!.listing], [4, 5]);
    });

    it('gives a second consolidation of the same backup a name of its own', async () => {
      const first = await consolidateBackup(history, 2);
      const second = await consolidateBackup(history, 2);
      assert.equal(first.record.backupPath, join(folder, 'orders-2-full.tar.gz'));
      assert.equal(second.record.backupPath, join(folder, 'orders-2-full-2.tar.gz'));
      assert.equal(first.record.checksum === null, false);
      assert.deepEqual(first.from, [1, 2]);
    });

    it('refuses a full backup as already full, writing nothing', async () => {
      await assert.rejects(consolidateBackup(history, 1), /^ConsolidateRefusedError: Backup #1 \(shop\/orders\) is already full/);
      assert.deepEqual(archives(), ['orders-1.tar.gz', 'orders-2.tar.gz', 'orders-3.tar.gz']);
      assert.equal(await history.get(4), undefined);
    });

    it('refuses a broken chain, naming the backup to blame, and leaves no file and no row', async () => {
      await history.update(2, { checksum: 'f'.repeat(64) });
      const broken = 'Backup #3 cannot be consolidated, its chain is broken: ';
      await assert.rejects(consolidateBackup(history, 3), new RegExp(`${broken}backup 2 \\(.*orders-2\\.tar\\.gz\\) does not match the checksum`));
      await history.markPruned(1, new Date('2026-03-10T00:00:00.000Z'));
      await assert.rejects(consolidateBackup(history, 3), new RegExp(`${broken}Backup #1, the base of #2, was deleted by retention`));
      assert.deepEqual(archives(), ['orders-1.tar.gz', 'orders-2.tar.gz', 'orders-3.tar.gz']);
      assert.equal(await history.get(4), undefined);
    });

    it('leaves nothing behind when cancelled while writing', async () => {
      const abort = new AbortController();
      const onStep = (step: string) => step === 'write' && abort.abort(new Error('stop'));
      const pending = consolidateBackup(history, 3, { signal: abort.signal, onStep });
      await assert.rejects(pending, (e: Error) => e.name === 'AbortError' || e.message === 'stop');
      assert.deepEqual(archives(), ['orders-1.tar.gz', 'orders-2.tar.gz', 'orders-3.tar.gz']);
      assert.equal(await history.get(4), undefined);
      assert.ok(statSync(folder).isDirectory());
    });
  });
}
