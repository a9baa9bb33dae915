import { randomUUID } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode } from './errnoCode';
import { HistoryLockTimeoutError } from './historyErrors';
import { unlinkIfPresent } from './unlinkIfPresent';

export interface FileLockOptions {
  /** Give up after this long; defaults to 10 s. */
  readonly timeoutMs?: number;
  /** A lock older than this is taken over even if its holder looks alive; defaults to 30 s. */
  readonly staleMs?: number;
}

export interface HeldFileLock {
  /** False when another process took the lock over as stale while we held it. */
  isStillHeld(): Promise<boolean>;
  release(): Promise<void>;
}

interface LockOwner {
  readonly pid: number;
  readonly hostname: string;
  readonly acquiredAt: string;
  readonly token: string;
}

/** What was seen in the lock file, compared again before breaking it. */
interface ObservedLock {
  readonly raw: string;
  readonly ino: bigint;
  readonly ageMs: number;
  readonly owner: LockOwner | undefined;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_STALE_MS = 30_000;

/**
 * An exclusive lock file created with `O_EXCL`, which works across processes and on network
 * file systems where `flock` may not. The file holds the owner's pid and host so a lock left by a
 * crashed process is taken over at once instead of after the age limit.
 */
export async function acquireFileLock(lockPath: string, options: FileLockOptions = {}): Promise<HeldFileLock> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const owner: LockOwner = {
    pid: process.pid,
    hostname: hostname(),
    acquiredAt: new Date().toISOString(),
    token: randomUUID(),
  };
  const content = JSON.stringify(owner);
  const started = Date.now();

  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(lockPath, 'wx', 0o600);
      try {
        await handle.writeFile(content);
      } finally {
        await handle.close();
      }
      return heldLock(lockPath, content);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') {
        throw error;
      }
    }

    const observed = await observeLock(lockPath);
    if (observed === undefined) {
      continue; // Released between our open and our read: try again at once.
    }
    if (isStale(observed, staleMs)) {
      await breakStaleLock(lockPath, observed, staleMs);
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= timeoutMs) {
      throw new HistoryLockTimeoutError(lockPath, waited, describeOwner(observed));
    }
    // Random backoff keeps several waiting processes from retrying in lock step.
    const ceiling = Math.min(100, 10 * 2 ** Math.min(attempt, 4));
    await sleep(Math.min(2 + Math.random() * ceiling, Math.max(1, timeoutMs - waited)));
  }
}

function heldLock(lockPath: string, content: string): HeldFileLock {
  const isStillHeld = async (): Promise<boolean> => {
    try {
      return (await readFile(lockPath, 'utf8')) === content;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') {
        return false;
      }
      throw error;
    }
  };
  return {
    isStillHeld,
    async release() {
      // Never delete a lock that another process now holds after taking ours over.
      if (await isStillHeld()) {
        await unlinkIfPresent(lockPath);
      }
    },
  };
}

async function observeLock(lockPath: string): Promise<ObservedLock | undefined> {
  try {
    const [info, raw] = await Promise.all([stat(lockPath, { bigint: true }), readFile(lockPath, 'utf8')]);
    return { raw, ino: info.ino, ageMs: Date.now() - Number(info.mtimeMs), owner: parseOwner(raw) };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
}

function isStale(observed: ObservedLock, staleMs: number): boolean {
  if (observed.ageMs > staleMs) {
    return true;
  }
  // A pid means nothing on another host sharing the folder (NFS), so only the age counts there.
  const owner = observed.owner;
  return owner !== undefined && owner.hostname === hostname() && !isProcessAlive(owner.pid);
}

/**
 * Two waiters may both find the same stale lock; if both deleted "the lock", the second could
 * delete the fresh one the first just created. A short-lived `.break` file lets only one of them
 * delete, and only if the lock is still the very one it judged stale.
 */
async function breakStaleLock(lockPath: string, observed: ObservedLock, staleMs: number): Promise<void> {
  const breakPath = `${lockPath}.break`;
  let marker;
  try {
    marker = await open(breakPath, 'wx', 0o600);
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') {
      throw error;
    }
    const breaker = await observeLock(breakPath);
    if (breaker !== undefined && breaker.ageMs > staleMs) {
      await unlinkIfPresent(breakPath); // Its creator died mid-break; nothing else removes it.
    } else {
      await sleep(2 + Math.random() * 10);
    }
    return;
  }
  try {
    const current = await observeLock(lockPath);
    if (current !== undefined && current.raw === observed.raw && current.ino === observed.ino) {
      await unlinkIfPresent(lockPath);
    }
  } finally {
    await marker.close();
    await unlinkIfPresent(breakPath);
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return errnoCode(error) === 'EPERM';
  }
}

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockOwner>;
    return typeof value.pid === 'number' && Number.isInteger(value.pid) && value.pid > 0 && typeof value.hostname === 'string'
      ? (value as LockOwner)
      : undefined;
  } catch {
    return undefined; // Still being written by its creator, or not ours: judged by age alone.
  }
}

function describeOwner(observed: ObservedLock): string {
  const owner = observed.owner;
  return owner === undefined
    ? `an unknown process for ${Math.round(observed.ageMs / 1000)} s`
    : `pid ${owner.pid} on ${owner.hostname} since ${owner.acquiredAt}`;
}
