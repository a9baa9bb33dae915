import * as assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openArchiveIndex, NoArchiveError } from '../../../src/core/archive/openArchiveIndex';
import { MAX_CACHED_ARCHIVE_INDEXES } from '../../../src/core/history/archiveIndexRows';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { systemTarGz } from '../archive/craftedArchive';

describe('saved archive listings', function () {
  this.timeout(30_000);
  let root: string;
  let history: HistoryStore;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'nkvm-archive-store-'));
    history = await HistoryStore.open(path.join(root, 'data', 'backups.db'));
  });
  afterEach(async () => {
    await history.close();
    await rm(root, { recursive: true, force: true });
  });

  async function archivedBackup(files: Record<string, string>): Promise<number> {
    const volume = path.join(root, `volume-${Math.random().toString(36).slice(2)}`);
    await mkdir(volume);
    for (const [name, content] of Object.entries(files)) await writeFile(path.join(volume, name), content);
    const archive = `${volume}.tar.gz`;
    systemTarGz(volume, archive);
    return history.append({ namespace: 'shop', pvcName: 'orders', status: 'success', backupPath: archive });
  }

  it('builds the listing on first open, loads it on the second, also from another process view', async () => {
    const id = await archivedBackup({ 'a.txt': 'a', 'b.txt': 'bb' });
    const first = await openArchiveIndex(history, (await history.get(id))!);
    assert.equal(first.source, 'built');
    assert.deepEqual(first.index.entries.map((e) => e.path).sort(), ['a.txt', 'b.txt']);

    const reopened = await HistoryStore.open(history.filePath);
    try {
      const second = await openArchiveIndex(reopened, (await reopened.get(id))!);
      assert.equal(second.source, 'cache');
      assert.deepEqual(second.index, first.index);
    } finally {
      await reopened.close();
    }
  });

  it('reads the archive again when it was replaced (size or mtime changed)', async () => {
    const id = await archivedBackup({ 'a.txt': 'a' });
    const record = (await history.get(id))!;
    await openArchiveIndex(history, record);
    const other = path.join(root, 'other');
    await mkdir(other);
    await writeFile(path.join(other, 'replaced.txt'), 'new content');
    systemTarGz(other, record.backupPath!);
    await utimes(record.backupPath!, new Date(), new Date(Date.now() + 5000));
    const reopened = await openArchiveIndex(history, record);
    assert.equal(reopened.source, 'built');
    assert.deepEqual(reopened.index.entries.map((e) => e.path), ['replaced.txt']);
  });

  it('keeps only the most recent listings so the history file stays small', async () => {
    const ids: number[] = [];
    for (let i = 0; i <= MAX_CACHED_ARCHIVE_INDEXES; i++) {
      const id = await archivedBackup({ [`f${i}.txt`]: String(i) });
      ids.push(id);
      await openArchiveIndex(history, (await history.get(id))!);
    }
    assert.equal(await history.loadArchiveIndex(ids[0]!), undefined);
    assert.ok(await history.loadArchiveIndex(ids[ids.length - 1]!));
  });

  it('refuses a pruned backup and drops its listing', async () => {
    const id = await archivedBackup({ 'a.txt': 'a' });
    await openArchiveIndex(history, (await history.get(id))!);
    const pruned = await history.markPruned(id, new Date());
    assert.equal(await history.loadArchiveIndex(id), undefined);
    await assert.rejects(openArchiveIndex(history, pruned!), NoArchiveError);
  });
});
