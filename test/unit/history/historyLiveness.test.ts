import * as assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { startChildWriter, type ChildWriter } from './childWriter';
import { sqlite3Available, sqlite3Lines } from './sqlite3Cli';

/** Short, so that the pause below lasts several times the limit without a slow suite. */
const STALE_MS = 1_000;

async function lockHolderPid(lockPath: string): Promise<number | undefined> {
  try {
    return (JSON.parse(await readFile(lockPath, 'utf8')) as { pid?: number }).pid;
  } catch {
    return undefined; // No lock, or one being written this very moment.
  }
}

/** Stops the child at a moment it holds the history lock (it appends in a loop, so that comes soon). */
async function stopWhileHoldingLock(child: ChildWriter, lockPath: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.ids.length >= 3 && (await lockHolderPid(lockPath)) === child.pid) {
      child.process.kill('SIGSTOP');
      if ((await lockHolderPid(lockPath)) === child.pid) {
        return;
      }
      child.process.kill('SIGCONT'); // It let go just before the signal: try again.
    }
    await sleep(1);
  }
  throw new Error(`the writer never held the lock: ${child.stderr()}`);
}

async function storedIds(dbPath: string, runId: string): Promise<number[]> {
  const store = await HistoryStore.open(dbPath);
  try {
    return (await store.byRun(runId)).map((record) => record.id);
  } finally {
    await store.close();
  }
}

describe('History lock held by a live process', function () {
  this.timeout(180_000);
  let root: string;
  let dbPath: string;
  let lockPath: string;
  const children: ChildWriter[] = [];

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'nkvm-liveness-'));
    dbPath = path.join(root, 'backups.db');
    lockPath = `${dbPath}.lock`;
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      child.process.kill('SIGKILL');
      await child.exited;
    }
    await rm(root, { recursive: true, force: true });
  });

  it('is never taken from a paused writer, however old the lock looks; every saved record survives', async () => {
    const paused = startChildWriter(dbPath, 'paused', 40, { staleMs: STALE_MS, timeoutMs: 120_000 });
    children.push(paused);
    await stopWhileHoldingLock(paused, lockPath);
    // Far past any age limit, as after a long laptop sleep or SIGSTOP.
    const longAgo = new Date(Date.now() - 10 * 60_000);
    await utimes(lockPath, longAgo, longAgo);

    const waiting = startChildWriter(dbPath, 'waiting', 5, { staleMs: STALE_MS, timeoutMs: 120_000 });
    children.push(waiting);
    await sleep(4 * STALE_MS + 2_000);
    assert.deepEqual(waiting.ids, [], 'the second writer saved while the first still held the lock');
    assert.equal(await lockHolderPid(lockPath), paused.pid);
    // Readers take no lock, so the history stays readable meanwhile.
    const reader = await HistoryStore.open(dbPath);
    try {
      assert.ok((await reader.count({ runId: 'paused' })) >= paused.ids.length);
    } finally {
      await reader.close();
    }

    paused.process.kill('SIGCONT');
    assert.equal(await paused.exited, 0, paused.stderr());
    assert.equal(await waiting.exited, 0, waiting.stderr());
    assert.deepEqual(await storedIds(dbPath, 'paused'), paused.ids);
    assert.deepEqual(await storedIds(dbPath, 'waiting'), waiting.ids);
    assert.equal(paused.ids.length + waiting.ids.length, 45);
    if (sqlite3Available) {
      assert.deepEqual(sqlite3Lines(dbPath, 'PRAGMA integrity_check'), ['ok']);
    }
    assert.deepEqual((await readdir(root)).filter((name) => name.includes('.corrupt-')), []);
  });

  it('passes at once to the next writer when its holder is killed', async () => {
    const killed = startChildWriter(dbPath, 'killed', 1_000, { staleMs: 10 * 60_000, timeoutMs: 120_000 });
    children.push(killed);
    await stopWhileHoldingLock(killed, lockPath);
    killed.process.kill('SIGKILL');
    assert.equal(await killed.exited, 'SIGKILL');

    // The age limit is ten minutes and the wait five seconds: only the dead holder lets this through.
    const next = startChildWriter(dbPath, 'next', 3, { staleMs: 10 * 60_000, timeoutMs: 5_000 });
    children.push(next);
    assert.equal(await next.exited, 0, next.stderr());
    assert.equal(next.ids.length, 3);
    const kept = await storedIds(dbPath, 'killed');
    for (const id of killed.ids) {
      assert.ok(kept.includes(id), `record ${id} was reported saved by the killed writer but is gone`);
    }
    if (sqlite3Available) {
      assert.deepEqual(sqlite3Lines(dbPath, 'PRAGMA integrity_check'), ['ok']);
    }
    assert.deepEqual((await readdir(root)).sort(), ['backups.db']);
  });
});
