import * as assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { acquireFileLock } from '../../../src/core/history/fileLock';
import { currentProcessOwner } from '../../../src/core/liveness/processOwner';
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

  function ownerFile(pid: number, fields: object = {}): string {
    return JSON.stringify({ pid, host: hostname(), acquiredAt: new Date().toISOString(), token: 'other', ...fields });
  }

  async function makeOld(filePath: string, ageMs: number): Promise<void> {
    const then = new Date(Date.now() - ageMs);
    await utimes(filePath, then, then);
  }

  it('records its pid, host and process start time in the lock file and removes it on release', async () => {
    const lock = await acquireFileLock(lockPath);
    const owner = JSON.parse(await readFile(lockPath, 'utf8')) as { pid: number; host: string; startTime?: string };
    assert.equal(owner.pid, process.pid);
    assert.equal(owner.host, hostname());
    if (process.platform === 'linux') {
      assert.match(owner.startTime ?? '', /^\d+$/);
    }
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

  it('never takes over a lock of a living process on this host, however old', async () => {
    await writeFile(lockPath, ownerFile(process.pid, currentProcessOwner()));
    await makeOld(lockPath, 60 * 60_000);
    await assert.rejects(acquireFileLock(lockPath, { timeoutMs: 500, staleMs: 1_000 }), { name: 'HistoryLockTimeoutError' });
  });

  it('takes over at once a lock whose pid now belongs to a process started later', async function () {
    if (process.platform !== 'linux') {
      this.skip(); // Start times come from /proc.
    }
    await writeFile(lockPath, ownerFile(process.pid, { ...currentProcessOwner(), startTime: '1' }));
    const lock = await acquireFileLock(lockPath, { timeoutMs: 500, staleMs: 60_000 });
    await lock.release();
  });

  it('judges a lock from another host only by how long ago it was renewed', async () => {
    await writeFile(lockPath, ownerFile(process.pid, { host: 'other-host.example' }));
    await assert.rejects(acquireFileLock(lockPath, { timeoutMs: 300, staleMs: 30_000 }), { name: 'HistoryLockTimeoutError' });
    await makeOld(lockPath, 60_000);
    const lock = await acquireFileLock(lockPath, { timeoutMs: 500, staleMs: 30_000 });
    await lock.release();
  });

  it('takes over an empty lock file a few seconds old: its creator was killed before it could write its name', async () => {
    await writeFile(lockPath, '');
    await assert.rejects(acquireFileLock(lockPath, { timeoutMs: 300, staleMs: 120_000 }), { name: 'HistoryLockTimeoutError' });
    await makeOld(lockPath, 10_000);
    const lock = await acquireFileLock(lockPath, { timeoutMs: 500, staleMs: 120_000 });
    await lock.release();
  });

  it('renews its lock while held, so another host never sees it as old', async () => {
    const lock = await acquireFileLock(lockPath, { staleMs: 400 });
    await makeOld(lockPath, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(Date.now() - (await stat(lockPath)).mtimeMs < 400);
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
