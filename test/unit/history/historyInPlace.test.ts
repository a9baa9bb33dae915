import * as assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readDatabaseFile } from '../../../src/core/history/databaseFile';
import { HistoryStore } from '../../../src/core/history/historyStore';
import type { HistoryWarning } from '../../../src/core/history/historyWarning';
import { writeChangedPagesInPlace } from '../../../src/core/history/pagesInPlace';
import { encodeRollbackJournal, hasRollbackJournal, rollbackJournalPath } from '../../../src/core/history/rollbackJournal';
import { changedPages, sqlitePageSize } from '../../../src/core/history/sqlitePages';
import { itWithSqlite3, sqlite3Lines } from './sqlite3Cli';

/** Saving writes only the changed pages of the file; these tests are about what a crash or a reader sees. */
describe('HistoryStore writes in place', function () {
  this.timeout(30_000);
  let root: string;
  let dbPath: string;
  let warnings: HistoryWarning[];
  const stores: HistoryStore[] = [];

  async function openStore(): Promise<HistoryStore> {
    const store = await HistoryStore.open(dbPath, { onWarning: (warning) => warnings.push(warning) });
    stores.push(store);
    return store;
  }

  async function appendMany(store: HistoryStore, prefix: string, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      await store.append({ namespace: 'team', pvcName: `${prefix}-${i}`, status: 'success', message: 'x'.repeat(300) });
    }
  }

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'nkvm-inplace-'));
    dbPath = path.join(root, 'backups.db');
    warnings = [];
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await rm(root, { recursive: true, force: true });
  });

  it('appends to a large history without replacing the file', async () => {
    const store = await openStore();
    await appendMany(store, 'seed', 200);
    const before = await stat(dbPath);
    await store.append({ namespace: 'team', pvcName: 'late', status: 'success' });
    const after = await stat(dbPath);
    assert.equal(after.ino, before.ino, 'the file was rewritten under a new inode instead of written in place');
    assert.equal(await hasRollbackJournal(dbPath), false);
    assert.equal((await (await openStore()).latest({ limit: 1 }))[0]?.pvcName, 'late');
  });

  itWithSqlite3('puts the pages back after a crash halfway through a write, and sqlite3 agrees', async () => {
    const store = await openStore();
    await appendMany(store, 'kept', 100);
    const committed = await readFile(dbPath);
    await store.append({ namespace: 'team', pvcName: 'torn', status: 'success' });
    await store.close();
    const written = await readFile(dbPath);
    // What a writer killed mid-way leaves: its journal, and the new pages written except the header.
    const pageSize = sqlitePageSize(written)!;
    const pages = changedPages(committed, written, pageSize);
    assert.ok(pages.length >= 2, 'the append changed too few pages to tear');
    const torn = Buffer.from(written);
    committed.copy(torn, 0, 0, pageSize);
    await writeFile(dbPath, torn);
    const saved = pages.filter((page) => page * pageSize < committed.length);
    await writeFile(
      rollbackJournalPath(dbPath),
      encodeRollbackJournal({
        pageSize,
        originalSize: committed.length,
        pages: saved.map((page) => ({ offset: page * pageSize, bytes: committed.subarray(page * pageSize, (page + 1) * pageSize) })),
      }),
    );

    const reopened = await openStore();
    const names = (await reopened.latest({ limit: 200 })).map((record) => record.pvcName);
    assert.equal(names.length, 100);
    assert.ok(!names.includes('torn'));
    assert.deepEqual(await readFile(dbPath), committed, 'the file is not back to the last complete write');
    assert.equal(await hasRollbackJournal(dbPath), false);
    assert.deepEqual(sqlite3Lines(dbPath, 'PRAGMA integrity_check;'), ['ok']);
    assert.deepEqual(warnings, []);
    await reopened.append({ namespace: 'team', pvcName: 'after', status: 'success' });
    assert.equal(await reopened.count(), 101);
  });

  it('drops a journal that was cut short, leaving the untouched file as it was', async () => {
    const store = await openStore();
    await appendMany(store, 'kept', 20);
    await store.close();
    const committed = await readFile(dbPath);
    const pageSize = sqlitePageSize(committed)!;
    const journal = encodeRollbackJournal({ pageSize, originalSize: committed.length, pages: [{ offset: 0, bytes: Buffer.alloc(pageSize, 0xee) }] });
    await writeFile(rollbackJournalPath(dbPath), journal.subarray(0, journal.length - 40));

    const reopened = await openStore();
    await reopened.append({ namespace: 'team', pvcName: 'next', status: 'success' });
    assert.equal(await reopened.count(), 21);
    assert.equal(await hasRollbackJournal(dbPath), false);
    assert.deepEqual(warnings, []);
  });

  it('leaves the file untouched and no journal when a write fails before its first page', async () => {
    const store = await openStore();
    await appendMany(store, 'kept', 50);
    await store.close();
    const snapshot = await readDatabaseFile(dbPath);
    assert.equal(snapshot.kind, 'present');
    if (snapshot.kind !== 'present') return;
    const changed = Buffer.from(snapshot.bytes);
    changed[changed.length - 10] = changed[changed.length - 10]! ^ 0xff;
    changed.writeUInt32BE(changed.readUInt32BE(24) + 1, 24);
    await assert.rejects(
      writeChangedPagesInPlace(dbPath, snapshot.bytes, snapshot.fingerprint, changed, {
        beforeCommit: async () => {
          throw new Error('lock lost');
        },
      }),
      /lock lost/,
    );
    assert.deepEqual(await readFile(dbPath), Buffer.from(snapshot.bytes));
    assert.equal(await hasRollbackJournal(dbPath), false);
  });

  it('keeps another reader working while a writer appends: counts only grow, nothing is moved aside', async () => {
    const writer = await openStore();
    const reader = await openStore();
    await appendMany(writer, 'seed', 100);
    let writing = true;
    const written = appendMany(writer, 'live', 40).finally(() => (writing = false));
    const counts: number[] = [];
    while (writing) {
      counts.push(await reader.count());
    }
    await written;
    counts.push(await reader.count());
    assert.ok(counts.length > 5, `the reader only got ${counts.length} reads in`);
    assert.ok(counts.every((count, i) => i === 0 || count >= counts[i - 1]!), `counts went backwards: ${counts.join(',')}`);
    assert.equal(counts.at(-1), 140);
    assert.deepEqual(warnings, [], 'a reader took a half-written file for a damaged one');
  });
});
