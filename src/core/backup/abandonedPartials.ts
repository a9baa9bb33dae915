import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { ownerLiveness, parseProcessOwner } from '../liveness/processOwner';
import { partialOwnerPath } from './partialArchive';

export interface AbandonedPartialsOptions {
  /**
   * A partial file whose owner cannot be checked (another host sharing the folder, or no owner
   * file) is removed once nothing wrote to it for this long; defaults to one day.
   */
  readonly untouchedMs?: number;
}

export interface AbandonedPartials {
  readonly removed: readonly string[];
  /** Partial files of backups that are still running, here or possibly on another host. */
  readonly kept: readonly string[];
}

const DEFAULT_UNTOUCHED_MS = 24 * 3600_000;
/** `<dir>/<context>/<namespace>/<pvc>/<archive>`: archives lie exactly there, never higher or deeper. */
const ARCHIVE_DEPTH = 4;
/** Only what a backup names its unfinished archives: the folder may hold other programs' `.partial` files. */
const ARCHIVE_PARTIAL = /\.tar(\.gz)?\.partial(\.owner)?$/;

/**
 * Removes the `.partial` archives (and their owner files) that a backup killed mid-copy left in the
 * backup folder. One whose owner still runs on this machine is left alone, whatever its age.
 */
export async function removeAbandonedPartials(backupDir: string, options: AbandonedPartialsOptions = {}): Promise<AbandonedPartials> {
  const untouchedMs = options.untouchedMs ?? DEFAULT_UNTOUCHED_MS;
  const removed: string[] = [];
  const kept: string[] = [];
  const judged = new Set<string>();
  for (const file of await partialFilesUnder(backupDir, ARCHIVE_DEPTH)) {
    const partialPath = file.endsWith('.owner') ? file.slice(0, -'.owner'.length) : file;
    if (judged.has(partialPath) || (file !== partialPath && (await exists(partialPath)))) {
      continue; // Judged with its partial file.
    }
    judged.add(partialPath);
    if (await isAbandoned(partialPath, untouchedMs)) {
      // An owner file found alone: its partial file may be opened just now by a writer caught in between,
      // so only the owner file goes.
      if (file === partialPath) await fs.rm(partialPath, { force: true });
      await fs.rm(partialOwnerPath(partialPath), { force: true });
      removed.push(file);
    } else {
      kept.push(file);
    }
  }
  return { removed, kept };
}

async function isAbandoned(partialPath: string, untouchedMs: number): Promise<boolean> {
  const owner = parseProcessOwner(await readIfPresent(partialOwnerPath(partialPath)));
  if (owner === undefined && !(await exists(partialPath))) {
    // The owner file is filled before the partial file is opened, so an unreadable one alone was left
    // half-written by a killed process. A live writer caught in between still has its partial judged by age.
    return true;
  }
  const liveness = owner === undefined ? 'unknown' : ownerLiveness(owner);
  if (liveness !== 'unknown') {
    return liveness === 'gone';
  }
  // A running backup writes to its partial file all the time, so its modification time stays fresh.
  const touched = (await mtimeIfPresent(partialPath)) ?? (await mtimeIfPresent(partialOwnerPath(partialPath)));
  return touched === undefined || Date.now() - touched > untouchedMs;
}

async function partialFilesUnder(dir: string, depth: number): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return []; // No backup yet, or removed meanwhile.
    throw e;
  }
  const found: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && depth > 1) {
      found.push(...(await partialFilesUnder(path, depth - 1)));
    } else if (entry.isFile() && depth === 1 && ARCHIVE_PARTIAL.test(entry.name)) {
      found.push(path);
    }
  }
  return found;
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function mtimeIfPresent(path: string): Promise<number | undefined> {
  try {
    return (await fs.stat(path)).mtimeMs;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  return (await mtimeIfPresent(path)) !== undefined;
}
