import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { HistoryStore } from '../../../src/core/history/historyStore';
import type { HistoryWarning } from '../../../src/core/history/historyWarning';
import { deadProcessId } from './deadProcessId';
import { sqlite3Available, sqlite3Lines } from './sqlite3Cli';

// Every write fsyncs a file and its folder, which a busy CI disk can slow well past mocha's 2 s.
describe('HistoryStore recovery', function () {
  this.timeout(20_000);
  let root: string;
  let dbPath: string;
  let warnings: HistoryWarning[];
  const stores: HistoryStore[] = [];

  async function openStore(lockTimeoutMs = 10_000): Promise<HistoryStore> {
    const store = await HistoryStore.open(dbPath, {
      onWarning: (warning) => warnings.push(warning),
      lock: { timeoutMs: lockTimeoutMs },
    });
    stores.push(store);
    return store;
  }

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'nkvm-recovery-'));
    dbPath = path.join(root, 'backups.db');
    warnings = [];
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await rm(root, { recursive: true, force: true });
  });

  it('moves a file of random bytes aside with a warning and starts a working history', async () => {
    const garbage = randomBytes(8192);
    await writeFile(dbPath, garbage);

    const store = await openStore();
    assert.equal(warnings.length, 1);
    const [warning] = warnings;
    assert.equal(warning!.kind, 'corrupt-file-moved-aside');
    assert.match(path.basename(warning!.movedTo), /^backups\.db\.corrupt-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/);
    assert.match(warning!.message, /was damaged \(it is not an SQLite database/);
    assert.equal(warning!.rowsKept, 0);
    assert.deepEqual(await readFile(warning!.movedTo), garbage);

    await store.append({ namespace: 'shop', pvcName: 'orders', status: 'success' });
    assert.equal(await store.count(), 1);
    if (sqlite3Available) {
      assert.deepEqual(sqlite3Lines(dbPath, 'SELECT pvc_name FROM backup_history'), ['orders']);
    }
  });

  it('detects damaged pages behind a valid header', async () => {
    const store = await openStore();
    for (let i = 0; i < 50; i++) {
      await store.append({ namespace: 'shop', pvcName: `pvc-${i}`, status: 'success', message: 'x'.repeat(200) });
    }
    await store.close();
    const bytes = await readFile(dbPath);
    // Keep page 1 (header and schema) and scribble over every page after it.
    const damaged = Buffer.concat([bytes.subarray(0, 4096), randomBytes(bytes.length - 4096)]);
    await writeFile(dbPath, damaged);

    await openStore();
    assert.equal(warnings.length, 1);
    assert.deepEqual(await readFile(warnings[0]!.movedTo), damaged);
  });

  it('keeps the rows it had read when the file is damaged while open', async () => {
    const store = await openStore();
    await store.append({ namespace: 'shop', pvcName: 'one', status: 'success' });
    await store.append({ namespace: 'shop', pvcName: 'two', status: 'success' });
    const garbage = randomBytes(4096);
    await writeFile(dbPath, garbage);

    await store.append({ namespace: 'shop', pvcName: 'three', status: 'success' });
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.rowsKept, 2);
    assert.deepEqual(await readFile(warnings[0]!.movedTo), garbage);
    assert.deepEqual((await store.latest()).map((record) => record.pvcName), ['three', 'two', 'one']);
  });

  it('survives a crash between temp write and rename: data kept, stale lock taken over', async () => {
    const store = await openStore();
    for (const pvcName of ['one', 'two', 'three']) {
      await store.append({ namespace: 'shop', pvcName, status: 'success' });
    }
    await store.close();
    const before = await readFile(dbPath);

    // What a writer killed just before its rename leaves: a half-written temp file and its lock.
    const crashedPid = await deadProcessId();
    const tempFile = `${dbPath}.tmp-${crashedPid}-0badf00d`;
    await writeFile(tempFile, before.subarray(0, Math.floor(before.length / 2)));
    await writeFile(
      `${dbPath}.lock`,
      JSON.stringify({ pid: crashedPid, hostname: hostname(), acquiredAt: new Date().toISOString(), token: 'crashed' }),
    );

    // A fresh lock from a dead pid must be taken over at once, not after an age limit.
    const started = Date.now();
    const reopened = await openStore(2_000);
    await reopened.append({ namespace: 'shop', pvcName: 'four', status: 'success' });
    assert.ok(Date.now() - started < 2_000, 'the dead holder\'s lock should be taken over at once');

    assert.deepEqual((await reopened.latest()).map((record) => record.pvcName), ['four', 'three', 'two', 'one']);
    assert.deepEqual(warnings, []);
    assert.deepEqual(await readdir(root), ['backups.db']);
  });

  it('fails with a clear message while a live process holds the lock, and loses nothing', async () => {
    const store = await openStore(300);
    await store.append({ namespace: 'shop', pvcName: 'one', status: 'success' });
    await writeFile(
      `${dbPath}.lock`,
      JSON.stringify({ pid: process.pid, hostname: hostname(), acquiredAt: '2026-11-28T20:41:55.123Z', token: 'busy' }),
    );
    await assert.rejects(
      store.append({ namespace: 'shop', pvcName: 'two', status: 'success' }),
      (error: Error) =>
        error.name === 'HistoryLockTimeoutError' &&
        error.message.includes(`held by process ${process.pid} on ${hostname()} since 2026-11-28T20:41:55.123Z, which is still running`) &&
        error.message.includes('if it hangs, end it'),
    );
    await rm(`${dbPath}.lock`);
    await store.append({ namespace: 'shop', pvcName: 'three', status: 'success' });
    assert.deepEqual((await store.latest()).map((record) => record.pvcName), ['three', 'one']);
  });
});
