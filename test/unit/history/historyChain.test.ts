import * as assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import { HistoryChainError, resolveHistoryChain } from '../../../src/core/history/historyChain';
import type { NewHistoryRecord } from '../../../src/core/history/historyRecord';
import { HistoryStore } from '../../../src/core/history/historyStore';

const sha = (n: number): string => n.toString(16).padStart(64, '0');

describe('the chain of a backup in the history', function () {
  this.timeout(20_000);
  let root: string;
  let history: HistoryStore;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'nkvm-history-chain-'));
    history = await HistoryStore.open(path.join(root, 'backups.db'));
  });
  afterEach(async () => {
    await history.close();
    await rm(root, { recursive: true, force: true });
  });

  async function backup(baseId?: number, extra: Partial<NewHistoryRecord> = {}): Promise<number> {
    const n = (await history.count()) + 1;
    return history.append({
      context: 'prod', namespace: 'shop', pvcName: 'orders', status: 'success', backupPath: path.join(root, `${n}.tar.gz`),
      checksum: sha(n), sizeBytes: 100 + n, ...(baseId !== undefined ? { kind: 'incremental', baseId } : {}), ...extra,
    });
  }

  async function failure(id: number): Promise<HistoryChainError> {
    try {
      await resolveHistoryChain(history, id);
    } catch (error) {
      assert.ok(error instanceof HistoryChainError, String(error));
      return error;
    }
    throw new assert.AssertionError({ message: `the chain of #${id} resolved` });
  }

  it('gives a full backup alone, and an incremental one from its full backup to it with paths and checksums', async () => {
    const full = await backup();
    const second = await backup(full);
    const third = await backup(second);
    assert.deepEqual((await resolveHistoryChain(history, full)).map((l) => l.id), [full]);
    const chain = await resolveHistoryChain(history, third);
    assert.deepEqual(chain.map((l) => [l.id, path.basename(l.path), l.sha256, l.sizeBytes]), [
      [full, '1.tar.gz', sha(1), 101],
      [second, '2.tar.gz', sha(2), 102],
      [third, '3.tar.gz', sha(3), 103],
    ]);
  });

  it('names the base that retention deleted', async () => {
    const full = await backup();
    const second = await backup(full);
    const third = await backup(second);
    await history.markPruned(second, new Date('2026-03-01T00:00:00.000Z'));
    const error = await failure(third);
    assert.equal(error.backupId, second);
    assert.match(error.message, new RegExp(`Backup #${second}, the base of #${third}, was deleted by retention at 2026-03-01`));
    assert.match(error.message, /restore a full backup/);
  });

  it('names a base that did not succeed, and a base of another volume or context', async () => {
    const partial = await backup(undefined, { status: 'partial' });
    const onPartial = await backup(partial);
    assert.match((await failure(onPartial)).message, new RegExp(`#${partial}, the base of #${onPartial}, ended partial, not success`));

    const otherContext = await backup(undefined, { context: 'staging' });
    const crossed = await backup(otherContext);
    const error = await failure(crossed);
    assert.equal(error.backupId, otherContext);
    assert.match(error.message, /is of staging\/shop\/orders, not of prod\/shop\/orders/);

    const otherVolume = await backup(undefined, { pvcName: 'media' });
    assert.match((await failure(await backup(otherVolume))).message, /is of prod\/shop\/media, not of prod\/shop\/orders/);
  });

  it('names a base missing from the history, and stops on a loop of bases', async () => {
    const full = await backup();
    const orphan = await backup(full + 40);
    const missing = await failure(orphan);
    assert.equal(missing.backupId, full + 40);
    assert.match(missing.message, new RegExp(`Backup #${full + 40}, the base of #${orphan}, is not in the history any more`));
    await history.close();

    // Only a hand-edited file can hold a loop: the store checks a base exists no more than SQLite does.
    const file = path.join(root, 'backups.db');
    const SQL = await initSqlJs();
    const db = new SQL.Database(await readFile(file));
    db.run("UPDATE backup_history SET kind = 'incremental', base_id = ? WHERE id = ?", [orphan, full]);
    db.run('UPDATE backup_history SET base_id = ? WHERE id = ?', [full, orphan]);
    await writeFile(file, db.export());
    db.close();
    history = await HistoryStore.open(file);
    const loop = await failure(orphan);
    assert.match(loop.message, new RegExp(`#${full} builds on #${orphan}, which is already in its chain`));
  });

  it('refuses a backup that has no archive, and an id that is not in the history', async () => {
    const failed = await backup(undefined, { status: 'failed', backupPath: null });
    assert.match((await failure(failed)).message, new RegExp(`Backup #${failed} wrote no archive; it cannot be restored`));
    assert.match((await failure(99)).message, /There is no backup #99 in the history/);
  });
});
