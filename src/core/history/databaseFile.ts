import { randomBytes } from 'node:crypto';
import { lstat, open, readdir, rename, stat, type FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { errnoCode } from './errnoCode';
import { syncFolder } from './syncFolder';
import { SQLITE_HEADER_BYTES, sqliteChangeCounter } from './sqlitePages';
import { unlinkIfPresent } from './unlinkIfPresent';

export type DatabaseFileSnapshot =
  | { readonly kind: 'missing' }
  | { readonly kind: 'present'; readonly bytes: Uint8Array; readonly fingerprint: string }
  /** A writer kept changing the file while it was read; read it again under the lock. */
  | { readonly kind: 'busy' };

/** Mode of a database file this store creates: it names clusters, volumes and paths. */
export const DATABASE_FILE_MODE = 0o600;

/**
 * Identifies one version of the file. A rename shows in the inode and ctime; a write in place
 * (by the `sqlite3` command) shows in SQLite's change counter even when size and timestamps (which some file systems keep
 * to a few milliseconds) happen to match.
 */
function fingerprintOf(
  info: { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint },
  header: Uint8Array,
): string {
  return `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}:${sqliteChangeCounter(header) ?? '-'}`;
}

/** The fingerprint of the version an open descriptor sees now. */
async function fingerprintOfHandle(handle: FileHandle): Promise<string> {
  const info = await handle.stat({ bigint: true });
  const header = new Uint8Array(SQLITE_HEADER_BYTES);
  const { bytesRead } = await handle.read(header, 0, header.length, 0);
  return fingerprintOf(info, header.subarray(0, bytesRead));
}

export async function fileFingerprint(filePath: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(filePath, 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
  try {
    return await fingerprintOfHandle(handle);
  } finally {
    await handle.close();
  }
}

const READ_ATTEMPTS = 20;

/**
 * Reads the bytes and their fingerprint without taking the lock. This store only ever renames a
 * complete file into place, but someone may change the file in place with the `sqlite3` command
 * meanwhile, so a read counts only if the fingerprint did not change while it was read.
 */
export async function readDatabaseFile(filePath: string): Promise<DatabaseFileSnapshot> {
  for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
    if (attempt > 0) {
      await sleep(5 + attempt * 5);
    }
    let handle;
    try {
      handle = await open(filePath, 'r');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') {
        return { kind: 'missing' };
      }
      throw error;
    }
    let bytes: Uint8Array;
    let info;
    try {
      info = await handle.stat({ bigint: true });
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
    const fingerprint = fingerprintOf(info, bytes.subarray(0, SQLITE_HEADER_BYTES));
    if ((await fileFingerprint(filePath)) === fingerprint) {
      return { kind: 'present', bytes, fingerprint };
    }
  }
  return { kind: 'busy' };
}

export interface AtomicWriteOptions {
  /** Last check before the new version becomes visible; throwing aborts the write. */
  readonly beforeCommit?: () => Promise<void>;
}

/**
 * Replaces `target` so that readers see either the old or the new file, never a mix, even after
 * a crash or power loss: write a temp file in the same folder, fsync it, rename it over the
 * target, fsync the folder so the rename itself is durable. Returns the new fingerprint.
 */
export async function writeFileAtomically(
  target: string,
  bytes: Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<string> {
  // Keep a mode the user chose for an existing file; replacing the inode would otherwise reset it.
  const mode = (await modeOf(target)) ?? DATABASE_FILE_MODE;
  const temp = `${target}${TEMP_MARKER}${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      if (process.platform !== 'win32') {
        await handle.chmod(mode); // open() applies the umask; the file must end up exactly `mode`.
      }
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await options.beforeCommit?.();
    await renameReplacing(temp, target);
  } catch (error) {
    await unlinkIfPresent(temp);
    throw error;
  }
  await syncFolder(path.dirname(target));
  const fingerprint = await fileFingerprint(target);
  if (fingerprint === undefined) {
    throw new Error(`${target} disappeared right after it was written`);
  }
  return fingerprint;
}

const TEMP_MARKER = '.tmp-';

/**
 * Deletes temp files that a crashed writer left between its write and its rename. Only safe
 * while holding the lock, since only the lock holder writes temp files.
 */
export async function removeAbandonedTempFiles(target: string): Promise<readonly string[]> {
  const folder = path.dirname(target);
  const prefix = `${path.basename(target)}${TEMP_MARKER}`;
  const removed: string[] = [];
  for (const name of await readdir(folder)) {
    if (name.startsWith(prefix)) {
      await unlinkIfPresent(path.join(folder, name));
      removed.push(path.join(folder, name));
    }
  }
  return removed;
}

/**
 * Renames a damaged file to `<name>.corrupt-<UTC time>` so its bytes stay available for
 * recovery. A numeric suffix avoids replacing an earlier copy, since rename overwrites silently.
 */
export async function moveCorruptFileAside(filePath: string, now: Date): Promise<string> {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  for (let suffix = 0; ; suffix++) {
    const candidate = `${filePath}.corrupt-${stamp}${suffix === 0 ? '' : `-${suffix}`}`;
    if (!(await exists(candidate))) {
      await rename(filePath, candidate);
      return candidate;
    }
  }
}

/**
 * On Windows a rename over a file fails while anything (a virus scanner, the indexer, a reader
 * in another window) has it open; those holds last milliseconds, so a short retry rides them out.
 */
async function renameReplacing(from: string, to: string): Promise<void> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    try {
      await rename(from, to);
      return;
    } catch (error) {
      const code = errnoCode(error);
      const transient = process.platform === 'win32' && (code === 'EPERM' || code === 'EACCES' || code === 'EBUSY');
      if (!transient || Date.now() > deadline) {
        throw error;
      }
      await sleep(20 + Math.random() * 30);
    }
  }
}

async function modeOf(filePath: string): Promise<number | undefined> {
  try {
    return (await stat(filePath)).mode & 0o777;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
}

async function exists(filePath: string): Promise<boolean> {
  try {
    await lstat(filePath);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      return false;
    }
    throw error;
  }
}
