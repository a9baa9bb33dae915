import * as assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { acquireFileLock } from '../../../src/core/history/fileLock';
import { deadProcessId } from './deadProcessId';

describe('acquireFileLock', () => {
  let root: string;
  let lockPath: string;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'nkvm-lock-'));
    lockPath = path.join(root, 'backups.db.lock');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  function ownerFile(pid: number): string {
    return JSON.stringify({ pid, hostname: hostname(), acquiredAt: new Date().toISOString(), token: 'other' });
  }

  it('records its pid and host in the lock file and removes it on release', async () => {
    const lock = await acquireFileLock(lockPath);
    const owner = JSON.parse(await readFile(lockPath, 'utf8')) as { pid: number; hostname: string };
    assert.equal(owner.pid, process.pid);
    assert.equal(owner.hostname, hostname());
    await lock.release();
    await assert.rejects(readFile(lockPath), { code: 'ENOENT' });
  });

  it('lets only one holder in at a time', async () => {
    const first = await acquireFileLock(lockPath);
    let secondAcquired = false;
    const second = acquireFileLock(lockPath).then((lock) => {
      secondAcquired = true;
      return lock;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(secondAcquired, false);
    await first.release();
    await (await second).release();
  });

  it('takes over a lock whose process has died', async () => {
    await writeFile(lockPath, ownerFile(await deadProcessId()));
    const lock = await acquireFileLock(lockPath, { timeoutMs: 500 });
    assert.ok(await lock.isStillHeld());
    await lock.release();
  });

  it('takes over a lock older than the stale limit even if its process is alive', async () => {
    await writeFile(lockPath, ownerFile(process.pid));
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(lockPath, longAgo, longAgo);
    const lock = await acquireFileLock(lockPath, { timeoutMs: 500, staleMs: 30_000 });
    await lock.release();
  });

  it('does not delete the lock of a process that took over from it', async () => {
    const lock = await acquireFileLock(lockPath);
    const successor = ownerFile(process.pid);
    await writeFile(lockPath, successor);
    assert.equal(await lock.isStillHeld(), false);
    await lock.release();
    assert.equal(await readFile(lockPath, 'utf8'), successor);
  });
});
