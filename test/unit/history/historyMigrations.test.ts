import * as assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import { HISTORY_SCHEMA_VERSION } from '../../../src/core/history/historyMigrations';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { RUNBOOK_HISTORY_QUERY, sqlite3Available, sqlite3Lines } from './sqlite3Cli';

/** The table as the runbook-era tool left it: schema version 0 and only the columns it names. */
async function writeRunbookEraDatabase(dbPath: string): Promise<void> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.run(`CREATE TABLE backup_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace TEXT NOT NULL,
    pvc_name TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    backup_path TEXT,
    checksum TEXT
  )`);
  const insert = 'INSERT INTO backup_history (namespace, pvc_name, status, created_at, backup_path, checksum) VALUES (?, ?, ?, ?, ?, ?)';
  // Python isoformat() with microseconds and an offset, one in another zone, one without a zone.
  db.run(insert, ['shop', 'orders', 'success', '2025-06-01T08:00:00.123456+00:00', '/b/orders.tar.gz', 'ab'.repeat(32)]);
  db.run(insert, ['shop', 'cache', 'failed', '2025-06-01T09:30:00+02:00', null, null]);
  db.run(insert, ['shop', 'media', 'success', '2025-06-01 07:45:00', '/b/media.tar.gz', 'cd'.repeat(32)]);
  await writeFile(dbPath, db.export());
  db.close();
}

// Every write fsyncs a file and its folder, which a busy CI disk can slow well past mocha's 2 s.
describe('history migrations', function () {
  this.timeout(20_000);
  let root: string;
  let dbPath: string;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'nkvm-migrate-'));
    dbPath = path.join(root, 'backups.db');
    await writeRunbookEraDatabase(dbPath);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('upgrades a version 0 table in place, keeping its rows', async () => {
    const store = await HistoryStore.open(dbPath);
    try {
      const records = await store.latest();
      assert.deepEqual(
        records.map((record) => [record.pvcName, record.status, record.createdAt, record.operation, record.context]),
        [
          ['orders', 'success', '2025-06-01T08:00:00.123Z', 'backup', null],
          ['media', 'success', '2025-06-01T07:45:00.000Z', 'backup', null],
          ['cache', 'failed', '2025-06-01T07:30:00.000Z', 'backup', null],
        ],
      );
      assert.equal(records[0]!.checksum, 'ab'.repeat(32));
      // Every backup made before incremental ones existed restores on its own.
      assert.deepEqual(records.map((record) => [record.kind, record.baseId]), [['full', null], ['full', null], ['full', null]]);

      const id = await store.append({ context: 'prod', namespace: 'shop', pvcName: 'orders', status: 'success', sizeBytes: 10 });
      assert.equal(id, 4);
      assert.equal((await store.forPvc('prod', 'shop', 'orders'))[0]?.sizeBytes, 10);
    } finally {
      await store.close();
    }

    // The upgrade is saved to the file, not only applied in memory.
    const SQL = await initSqlJs();
    const db = new SQL.Database(await readFile(dbPath));
    assert.equal(db.exec('PRAGMA user_version')[0]?.values[0]?.[0], HISTORY_SCHEMA_VERSION);
    const columns = db.exec('PRAGMA table_info(backup_history)')[0]!.values.map((row) => row[1]);
    for (const column of ['run_id', 'operation', 'context', 'stage', 'message', 'next_step', 'finished_at', 'duration_ms', 'size_bytes', 'verified_at', 'verify_outcome', 'verify_message', 'pruned_at', 'kind', 'base_id']) {
      assert.ok(columns.includes(column), `missing column ${column}`);
    }
    assert.ok(db.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'archive_index'").length === 1, 'archive_index table missing');
    const indexes = db.exec("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'backup_history'")[0]!.values.flat();
    assert.ok(indexes.includes('backup_history_by_volume') && indexes.includes('backup_history_by_created_at'));
    db.close();

    if (sqlite3Available) {
      assert.deepEqual(sqlite3Lines(dbPath, RUNBOOK_HISTORY_QUERY).map((line) => line.split('|')[1]), [
        'orders',
        'orders',
        'media',
        'cache',
      ]);
    }
  });

  it('saves the upgrade on open even when nothing else is written', async () => {
    const store = await HistoryStore.open(dbPath);
    await store.close();
    const SQL = await initSqlJs();
    const db = new SQL.Database(await readFile(dbPath));
    assert.equal(db.exec('PRAGMA user_version')[0]?.values[0]?.[0], HISTORY_SCHEMA_VERSION);
    assert.equal(db.exec('SELECT count(*) FROM backup_history')[0]?.values[0]?.[0], 3);
    db.close();
  });
});
