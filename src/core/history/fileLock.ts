import { randomUUID } from 'node:crypto';
import { open, readFile, stat, utimes } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  currentProcessOwner,
  describeOwner,
  ownerLiveness,
  parseProcessOwner,
  type ProcessOwner,
} from '../liveness/processOwner';
import { errnoCode } from './errnoCode';
import { HistoryLockTimeoutError } from './historyErrors';
import { unlinkIfPresent } from './unlinkIfPresent';

export interface FileLockOptions {
  /** Give up after this long; defaults to 10 s. */
  readonly timeoutMs?: number;
  /**
   * A lock held from another host (a shared folder), or one whose owner cannot be read, is taken
   * over once it has not been renewed for this long; defaults to 2 minutes. A lock held on this
   * host is never taken over while its process lives, however old it is.
   */
  readonly staleMs?: number;
}

export interface HeldFileLock {
  /** False when another process took the lock over as stale while we held it. */
  isStillHeld(): Promise<boolean>;
  release(): Promise<void>;
}

interface LockContent extends ProcessOwner {
  readonly acquiredAt: string;
  readonly token: string;
}

/** What was seen in the lock file, compared again before breaking it. */
interface ObservedLock {
  readonly raw: string;
  readonly ino: bigint;
  readonly ageMs: number;
  readonly owner: ProcessOwner | undefined;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_STALE_MS = 120_000;
/** The holder renews this often, so another host never sees a held lock as old. */
const MAX_RENEW_MS = 15_000;
/** A lock file that names no owner this long after it was created was left by a creator killed mid-write. */
const UNNAMED_LOCK_STALE_MS = 5_000;

/**
 * An exclusive lock file created with `O_EXCL`, which works across processes and on network
 * file systems where `flock` may not. It names its owner (pid, host, the process's start time and
 * the boot id), so a lock left by a process that ended is taken over at once, and one held by a
 * paused but living process (SIGSTOP, a slow disk) never is. The holder touches the file while it
 * holds it; only another host, which cannot see our processes, goes by that age.
 */
export async function acquireFileLock(lockPath: string, options: FileLockOptions = {}): Promise<HeldFileLock> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS;
  const content: LockContent = { ...currentProcessOwner(), acquiredAt: new Date().toISOString(), token: randomUUID() };
  const text = JSON.stringify(content);
  const started = Date.now();

  for (let attempt = 0; ; attempt++) {
    if (await createExclusively(lockPath, text)) {
      return heldLock(lockPath, text, Math.max(10, Math.min(MAX_RENEW_MS, staleMs / 4)));
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
      throw new HistoryLockTimeoutError(lockPath, waited, describeHolder(observed));
    }
    // Random backoff keeps several waiting processes from retrying in lock step.
    const ceiling = Math.min(100, 10 * 2 ** Math.min(attempt, 4));
    await sleep(Math.min(2 + Math.random() * ceiling, Math.max(1, timeoutMs - waited)));
  }
}

async function createExclusively(filePath: string, text: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(filePath, 'wx', 0o600);
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') {
      return false;
    }
    throw error;
  }
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
  return true;
}

function heldLock(lockPath: string, content: string, renewMs: number): HeldFileLock {
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
  const renew = async (): Promise<void> => {
    try {
      if (await isStillHeld()) {
        const now = new Date();
        await utimes(lockPath, now, now);
      }
    } catch {
      // A missed renewal only matters to another host after many of them; the next one may work.
    }
  };
  const timer = setInterval(() => void renew(), renewMs);
  timer.unref();
  return {
    isStillHeld,
    async release() {
      clearInterval(timer);
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
    return { raw, ino: info.ino, ageMs: Date.now() - Number(info.mtimeMs), owner: parseLockOwner(raw) };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
}

function isStale(observed: ObservedLock, staleMs: number): boolean {
  // The creator writes its name right after creating the file; one still nameless seconds later was
  // killed in between, and would otherwise block every writer until staleMs.
  if (observed.owner === undefined && observed.ageMs > UNNAMED_LOCK_STALE_MS) return true;
  const liveness = observed.owner === undefined ? 'unknown' : ownerLiveness(observed.owner);
  // A pid means nothing on another host sharing the folder (NFS), so only a lapsed renewal counts there.
  return liveness === 'gone' || (liveness === 'unknown' && observed.ageMs > staleMs);
}

/**
 * Two waiters may both find the same stale lock; if both deleted "the lock", the second could
 * delete the fresh one the first just created. A short-lived `.break` file, which names its
 * creator like the lock does, lets only one of them delete, and only the very lock it judged stale.
 */
async function breakStaleLock(lockPath: string, observed: ObservedLock, staleMs: number): Promise<void> {
  const breakPath = `${lockPath}.break`;
  if (!(await createExclusively(breakPath, JSON.stringify(currentProcessOwner())))) {
    const breaker = await observeLock(breakPath);
    if (breaker !== undefined && isStale(breaker, staleMs)) {
      await unlinkIfPresent(breakPath); // Its creator ended mid-break; nothing else removes it.
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
    await unlinkIfPresent(breakPath);
  }
}

function parseLockOwner(raw: string): ProcessOwner | undefined {
  try {
    const value = JSON.parse(raw) as Record<string, unknown>;
    // Earlier versions wrote `hostname`; their locks must still be recognised.
    return parseProcessOwner({ ...value, host: value.host ?? value.hostname });
  } catch {
    return undefined; // Still being written by its creator, or not ours: judged by age alone.
  }
}

function describeHolder(observed: ObservedLock): string {
  if (observed.owner === undefined) {
    return `an unknown process for ${Math.round(observed.ageMs / 1000)} s`;
  }
  const since = (JSON.parse(observed.raw) as { acquiredAt?: unknown }).acquiredAt;
  const holder = `${describeOwner(observed.owner)}${typeof since === 'string' ? ` since ${since}` : ''}`;
  return ownerLiveness(observed.owner) === 'alive'
    ? `${holder}, which is still running`
    : `${holder}, renewed ${Math.round(observed.ageMs / 1000)} s ago`;
}
