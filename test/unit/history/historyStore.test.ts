import * as assert from 'node:assert/strict';
import { chmod, lstat, mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import { HistorySchemaTooNewError } from '../../../src/core/history/historyErrors';
import { HistoryStore } from '../../../src/core/history/historyStore';
import type { HistoryWarning } from '../../../src/core/history/historyWarning';
import { RUNBOOK_HISTORY_QUERY, itWithSqlite3, sqlite3Lines } from './sqlite3Cli';

const posixOnly = process.platform === 'win32' ? it.skip : it;
const CHECKSUM = 'a3f1c2d4e5b6978877665544332211ffeeddccbbaa99887766554433221100ab';

// Every write fsyncs a file and its folder, which a busy CI disk can slow well past mocha's 2 s.
describe('HistoryStore', function () {
  this.timeout(20_000);
  let root: string;
  let dbPath: string;
  let warnings: HistoryWarning[];
  const stores: HistoryStore[] = [];

  async function openStore(filePath = dbPath): Promise<HistoryStore> {
    const store = await HistoryStore.open(filePath, { onWarning: (warning) => warnings.push(warning) });
    stores.push(store);
    return store;
  }

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'nkvm-history-'));
    dbPath = path.join(root, 'data', 'backups.db');
    warnings = [];
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await rm(root, { recursive: true, force: true });
  });

  itWithSqlite3('reads back an appended record, and the runbook query lists it', async () => {
    const store = await openStore();
    const id = await store.append({
      runId: 'run-1',
      context: 'kind-dev',
      namespace: 'shop',
      pvcName: 'postgres-data',
      status: 'success',
      stage: 'cleanup',
      message: 'Backup completed and verified',
      createdAt: '2026-11-28T20:41:55.123Z',
      finishedAt: new Date('2026-11-28T20:42:05.000Z'),
      durationMs: 9877,
      sizeBytes: 52_428_800,
      checksum: CHECKSUM.toUpperCase(),
      backupPath: '/work/backups/shop/postgres-data-20261128T204155Z.tar.gz',
    });

    assert.deepEqual(await store.get(id), {
      id,
      runId: 'run-1',
      operation: 'backup',
      context: 'kind-dev',
      namespace: 'shop',
      pvcName: 'postgres-data',
      status: 'success',
      stage: 'cleanup',
      message: 'Backup completed and verified',
      nextStep: null,
      createdAt: '2026-11-28T20:41:55.123Z',
      finishedAt: '2026-11-28T20:42:05.000Z',
      durationMs: 9877,
      sizeBytes: 52_428_800,
      checksum: CHECKSUM,
      backupPath: '/work/backups/shop/postgres-data-20261128T204155Z.tar.gz',
      verifiedAt: null,
      verifyOutcome: null,
      verifyMessage: null,
      prunedAt: null,
      consistency: null,
      snapshotName: null,
      snapshotAt: null,
      hooks: null,
      drilledAt: null,
      drillOutcome: null,
      drillMessage: null,
      kind: 'full',
      baseId: null,
      increment: null,
    });
    assert.deepEqual(sqlite3Lines(dbPath, RUNBOOK_HISTORY_QUERY), [
      'shop|postgres-data|success|2026-11-28T20:41:55.123Z|/work/backups/shop/postgres-data-20261128T204155Z.tar.gz',
    ]);
    assert.deepEqual(sqlite3Lines(dbPath, `SELECT checksum FROM backup_history WHERE id = ${id}`), [CHECKSUM]);
  });

  posixOnly('creates the file 0600 in a new 0700 folder', async () => {
    const previous = process.umask(0o022);
    try {
      const store = await openStore();
      await store.append({ namespace: 'shop', pvcName: 'cache', status: 'failed' });
    } finally {
      process.umask(previous);
    }
    assert.equal((await stat(dbPath)).mode & 0o777, 0o600);
    assert.equal((await stat(path.dirname(dbPath))).mode & 0o777, 0o700);
  });

  posixOnly('adopts the empty file the runbook creates with touch, keeping a mode the user chose', async () => {
    await mkdir(path.dirname(dbPath), { recursive: true });
    await writeFile(dbPath, '');
    await chmod(dbPath, 0o640);
    const store = await openStore();
    await store.append({ namespace: 'shop', pvcName: 'cache', status: 'success' });
    assert.deepEqual(warnings, []);
    assert.equal(await store.count(), 1);
    assert.equal((await stat(dbPath)).mode & 0o777, 0o640);
  });

  it('stamps records with UTC milliseconds and lists them newest first', async () => {
    const store = await openStore();
    const older = await store.append({ namespace: 'a', pvcName: 'one', status: 'success', createdAt: '2026-01-01T10:00:00+02:00' });
    const newer = await store.append({ namespace: 'a', pvcName: 'two', status: 'failed' });
    const sameTime = await store.append({ namespace: 'a', pvcName: 'three', status: 'failed', createdAt: (await store.get(newer))!.createdAt });

    const latest = await store.latest();
    assert.deepEqual(latest.map((record) => record.id), [sameTime, newer, older]);
    assert.equal(latest[2]!.createdAt, '2026-01-01T08:00:00.000Z');
    assert.match(latest[1]!.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('filters by volume, status, operation and run, and pages with limit and offset', async () => {
    const store = await openStore();
    const base = Date.parse('2026-03-01T00:00:00.000Z');
    for (let i = 0; i < 6; i++) {
      await store.append({
        runId: i < 3 ? 'run-a' : 'run-b',
        context: i % 2 === 0 ? 'prod' : 'dev',
        namespace: 'shop',
        pvcName: 'orders',
        status: i === 4 ? 'failed' : 'success',
        operation: i === 5 ? 'restore' : 'backup',
        createdAt: new Date(base + i * 1000),
      });
    }
    assert.equal(await store.count(), 6);
    assert.equal(await store.count({ context: 'prod' }), 3);
    assert.equal(await store.count({ status: ['failed', 'partial'] }), 1);
    assert.equal(await store.count({ status: [] }), 0);
    assert.equal(await store.count({ operation: 'restore' }), 1);

    const prodOrders = await store.forPvc('prod', 'shop', 'orders', 2);
    assert.deepEqual(prodOrders.map((record) => record.createdAt), ['2026-03-01T00:00:04.000Z', '2026-03-01T00:00:02.000Z']);
    const secondPage = await store.latest({ limit: 2, offset: 2 });
    assert.deepEqual(secondPage.map((record) => record.createdAt), ['2026-03-01T00:00:03.000Z', '2026-03-01T00:00:02.000Z']);
    const run = await store.byRun('run-b');
    assert.deepEqual(run.map((record) => record.createdAt), ['2026-03-01T00:00:03.000Z', '2026-03-01T00:00:04.000Z', '2026-03-01T00:00:05.000Z']);
    await assert.rejects(store.latest({ limit: 0 }), /limit must be a whole number from 1 to/);
  });

  it('finishes a running record with update, and reports an unknown id', async () => {
    const store = await openStore();
    const id = await store.append({ runId: 'r', namespace: 'shop', pvcName: 'orders', status: 'running', stage: 'create' });
    const finished = await store.update(id, {
      status: 'failed',
      stage: 'wait',
      message: 'wait stage failed: helper pod did not start within 120 s',
      nextStep: 'Raise NKVM_HELPER_POD_TIMEOUT_SECONDS or check the pod events',
      durationMs: 120_004,
    });
    assert.equal(finished?.status, 'failed');
    assert.equal(finished?.stage, 'wait');
    assert.equal(finished?.durationMs, 120_004);
    assert.equal(finished?.namespace, 'shop');
    assert.equal(await store.update(id + 100, { status: 'success' }), undefined);
  });

  it('rejects invalid records before touching the file, naming the field', async () => {
    const store = await openStore();
    await assert.rejects(store.append({ namespace: '', pvcName: 'x', status: 'success' }), /namespace must be a non-empty string/);
    await assert.rejects(
      store.append({ namespace: 'a', pvcName: 'x', status: 'done' as 'success' }),
      /status must be one of success, partial, failed, cancelled, running/,
    );
    await assert.rejects(store.append({ namespace: 'a', pvcName: 'x', status: 'success', checksum: 'abc' }), /checksum must be a hex SHA-256/);
    await assert.rejects(store.append({ namespace: 'a', pvcName: 'x', status: 'success', sizeBytes: -1 }), /sizeBytes must be a whole number/);
    await assert.rejects(
      store.append({ namespace: 'a', pvcName: 'x', status: 'success', createdAt: '2026-01-01 10:00:00' }),
      /createdAt must be a Date or an ISO-8601 timestamp with a zone/,
    );
    assert.equal(await store.count(), 0);
  });

  it('sees records another store on the same file wrote', async () => {
    const first = await openStore();
    const second = await openStore();
    await first.append({ namespace: 'a', pvcName: 'one', status: 'success' });
    await second.append({ namespace: 'a', pvcName: 'two', status: 'success' });
    assert.deepEqual((await first.latest()).map((record) => record.pvcName), ['two', 'one']);
    assert.equal(await second.count(), 2);
  });

  posixOnly('writes through a symlinked path to the real file and keeps the link', async () => {
    const realFolder = path.join(root, 'volume');
    await mkdir(realFolder);
    await mkdir(path.dirname(dbPath));
    await writeFile(path.join(realFolder, 'real.db'), '');
    await symlink(path.join(realFolder, 'real.db'), dbPath);
    const store = await openStore();
    await store.append({ namespace: 'a', pvcName: 'one', status: 'success' });
    assert.ok((await lstat(dbPath)).isSymbolicLink());
    assert.equal(store.filePath, path.join(await realpath(realFolder), 'real.db'));
    assert.ok((await stat(path.join(realFolder, 'real.db'))).size > 0);
  });

  it('records an incremental backup with the backup it builds on, and refuses one without a base', async () => {
    const store = await openStore();
    const full = await store.append({ namespace: 'shop', pvcName: 'orders', status: 'success', checksum: CHECKSUM, backupPath: '/b/1.tar.gz' });
    const next = await store.append({ namespace: 'shop', pvcName: 'orders', status: 'running', kind: 'incremental', baseId: full });
    assert.deepEqual(pick(await store.get(full)), { kind: 'full', baseId: null });
    assert.deepEqual(pick(await store.get(next)), { kind: 'incremental', baseId: full });
    await assert.rejects(store.append({ namespace: 'shop', pvcName: 'orders', status: 'running', kind: 'incremental' }), /must name the history id of its base/);
    await assert.rejects(store.append({ namespace: 'shop', pvcName: 'orders', status: 'running', baseId: full }), /a full backup has no base/);
    // A backup that could not build on its base falls back to a full one.
    assert.deepEqual(pick(await store.update(next, { kind: 'full', baseId: null })), { kind: 'full', baseId: null });
    await assert.rejects(store.update(next, { kind: 'incremental' }), /kind and baseId must be changed together/);
    assert.equal(await store.count(), 2);
  });

  it('reads a file from a newer version but refuses to write it', async () => {
    const SQL = await initSqlJs();
    const db = new SQL.Database();
    db.run(`CREATE TABLE backup_history (id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT, operation TEXT, context TEXT,
      namespace TEXT, pvc_name TEXT, status TEXT, stage TEXT, message TEXT, next_step TEXT, created_at TEXT,
      finished_at TEXT, duration_ms INTEGER, size_bytes INTEGER, checksum TEXT, backup_path TEXT, verified_at TEXT,
      verify_outcome TEXT, verify_message TEXT, pruned_at TEXT, owner TEXT, consistency TEXT, snapshot_name TEXT,
      snapshot_at TEXT, hooks TEXT, drilled_at TEXT, drill_outcome TEXT, drill_message TEXT,
      kind TEXT, base_id INTEGER, increment TEXT, added_later TEXT)`);
    db.run("INSERT INTO backup_history (namespace, pvc_name, status, created_at) VALUES ('a', 'b', 'success', '2026-01-01T00:00:00.000Z')");
    db.run('PRAGMA user_version = 99');
    await mkdir(path.dirname(dbPath));
    await writeFile(dbPath, db.export());
    db.close();
    const before = await readFile(dbPath);

    const store = await openStore();
    assert.equal((await store.latest())[0]?.pvcName, 'b');
    await assert.rejects(store.append({ namespace: 'a', pvcName: 'c', status: 'success' }), HistorySchemaTooNewError);
    assert.deepEqual(await readFile(dbPath), before);
  });
});

function pick(record: { kind: string; baseId: number | null } | undefined): { kind: string; baseId: number | null } | undefined {
  return record && { kind: record.kind, baseId: record.baseId };
}
