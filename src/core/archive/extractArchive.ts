import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, link, lstat, mkdir, open, realpath, rename, symlink, unlink, utimes } from 'node:fs/promises';
import * as path from 'node:path';
import { errnoCode } from '../history/errnoCode';
import type { RefusedEntry } from './archiveIndex';
import type { Readable } from 'node:stream';
import { scanArchive, scanTar, type EntryVisitor, type ScannedEntry, type ScanResult } from './archiveScan';
import { normaliseEntryPath, unsafeEntryReason } from './entrySafety';

export interface ExtractOptions {
  /** Files or folders to extract (a folder selects everything under it); all when left out. */
  readonly paths?: readonly string[];
  readonly signal?: AbortSignal;
}

export interface ExtractResult {
  /** Files, folders and links created. */
  readonly written: number;
  readonly refused: readonly RefusedEntry[];
}

// setuid/setgid are dropped, as tar does for a user who is not root.
const MODE_MASK = 0o1777;
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * Extracts selected entries into a local folder. Never writes outside `destDir`: entries that are
 * unsafe on their own, and entries that would pass through a symlink leading out of `destDir`, are
 * refused and reported. Files are written under a temporary name and renamed when complete.
 */
export async function extractArchive(archivePath: string, destDir: string, options: ExtractOptions = {}): Promise<ExtractResult> {
  return extractEntries((visit) => scanArchive(archivePath, visit, { signal: options.signal }), destDir, options);
}

/** The same extraction from a plain tar stream, e.g. an incremental chain merged into one tar; `label` names it in errors. */
export async function extractTar(tar: Readable, label: string, destDir: string, options: ExtractOptions = {}): Promise<ExtractResult> {
  return extractEntries((visit) => scanTar(tar, label, visit, { signal: options.signal }), destDir, options);
}

async function extractEntries(
  scan: (visit: EntryVisitor) => Promise<ScanResult>,
  destDir: string,
  options: ExtractOptions,
): Promise<ExtractResult> {
  await mkdir(destDir, { recursive: true });
  const root = await realpath(destDir);
  const selection = options.paths?.map(normaliseEntryPath);
  const refused: RefusedEntry[] = [];
  // Folder modes are applied last, so a read-only folder does not stop its own content being written.
  const folderModes: { target: string; mode: number; mtimeMs: number }[] = [];
  let written = 0;

  const selected = (entryPath: string): boolean =>
    selection === undefined || selection.some((p) => p === '' || entryPath === p || entryPath.startsWith(`${p}/`));

  await scan(async (entry) => {
    const reason = unsafeEntryReason({ path: entry.rawPath, type: entry.type, linkname: entry.linkname });
    if (!selected(entry.path)) return;
    if (reason !== undefined) {
      refused.push({ path: entry.rawPath, reason });
      return;
    }
    if (entry.path === '') return; // The archive root is destDir itself.
    const placed = await placeEntry(root, entry);
    if (typeof placed === 'string') {
      refused.push({ path: entry.rawPath, reason: placed });
      return;
    }
    if (placed.folderMode !== undefined) folderModes.push(placed.folderMode);
    written++;
  });

  for (const folder of folderModes.reverse()) {
    await chmod(folder.target, folder.mode & MODE_MASK);
    await utimes(folder.target, folder.mtimeMs / 1000, folder.mtimeMs / 1000);
  }
  return { written, refused };
}

type Placed = { folderMode?: { target: string; mode: number; mtimeMs: number } };

/** Creates one entry; returns a reason instead when it would leave `root`. */
async function placeEntry(root: string, entry: ScannedEntry): Promise<Placed | string> {
  const parts = entry.path.split('/');
  const folders = await ensureFolders(root, parts.slice(0, -1));
  if ('refused' in folders) return folders.refused;
  const parent = folders.folder;
  const target = path.join(parent, parts[parts.length - 1]!);
  const existing = await lstatOrUndefined(target);

  if (entry.type === 'directory') {
    if (existing?.isSymbolicLink()) {
      const resolved = await insideRoot(root, target);
      if (resolved === undefined) return `folder ${entry.path} is a symlink in the destination that leads outside it`;
    } else if (existing !== undefined && !existing.isDirectory()) {
      return `${entry.path} exists in the destination and is not a folder`;
    } else if (existing === undefined) {
      await mkdir(target, { mode: 0o700 });
    }
    return { folderMode: { target, mode: entry.mode, mtimeMs: entry.mtimeMs } };
  }

  if (existing?.isDirectory()) return `${entry.path} exists in the destination as a folder`;

  if (entry.type === 'symlink') {
    // Checked lexically from the real folder: the archive may only point inside the destination.
    const pointsTo = path.resolve(parent, entry.linkname!);
    if (!isInside(root, pointsTo)) return `symlink ${entry.path} -> ${entry.linkname} would point outside the destination`;
    if (existing !== undefined) await unlink(target);
    await symlink(entry.linkname!, target);
    return {};
  }

  if (entry.type === 'link') {
    const source = await insideRoot(root, path.join(root, ...normaliseEntryPath(entry.linkname!).split('/')));
    if (source === undefined) return `hard link ${entry.path} -> ${entry.linkname} has no target inside the destination`;
    const sourceStat = await lstat(source);
    if (!sourceStat.isFile()) return `hard link ${entry.path} -> ${entry.linkname} does not point to a file`;
    if (existing !== undefined) await unlink(target);
    await link(source, target);
    return {};
  }

  if (entry.type === 'file' || entry.type === 'contiguous-file') {
    await writeFileAtomically(parent, target, entry);
    return {};
  }
  return `${entry.type} entries are not extracted`;
}

/**
 * Walks down from `root`, creating missing folders. An existing symlink is followed only when it
 * resolves inside `root`; returns the real parent folder, or why it cannot be used.
 */
async function ensureFolders(root: string, parts: readonly string[]): Promise<{ folder: string } | { refused: string }> {
  let current = root;
  for (const part of parts) {
    const next = path.join(current, part);
    const found = await lstatOrUndefined(next);
    if (found === undefined) {
      await mkdir(next, { mode: 0o700 });
      current = next;
    } else if (found.isSymbolicLink()) {
      const resolved = await insideRoot(root, next);
      if (resolved === undefined) return { refused: `${path.relative(root, next)} is a symlink that leads outside the destination` };
      if (!(await lstat(resolved)).isDirectory()) return { refused: `${path.relative(root, next)} is not a folder` };
      current = resolved;
    } else if (found.isDirectory()) {
      current = next;
    } else {
      return { refused: `${path.relative(root, next)} exists in the destination and is not a folder` };
    }
  }
  return { folder: current };
}

async function writeFileAtomically(folder: string, target: string, entry: ScannedEntry): Promise<void> {
  const temporary = path.join(folder, `.nkvm-extract-${randomBytes(6).toString('hex')}`);
  const handle = await open(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NO_FOLLOW, 0o600);
  let closed = false;
  try {
    let size = 0;
    for await (const chunk of entry.body) {
      await handle.write(chunk);
      size += chunk.length;
    }
    if (size !== entry.size) throw new Error(`${entry.path}: the archive ended after ${size} of ${entry.size} bytes`);
    await handle.chmod(entry.mode & MODE_MASK);
    await handle.utimes(entry.mtimeMs / 1000, entry.mtimeMs / 1000);
    await handle.close();
    closed = true;
    // rename replaces a file or a symlink itself, never what a symlink points to.
    await rename(temporary, target);
  } catch (error) {
    if (!closed) await handle.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

async function insideRoot(root: string, candidate: string): Promise<string | undefined> {
  try {
    const resolved = await realpath(candidate);
    return isInside(root, resolved) ? resolved : undefined;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ELOOP') return undefined;
    throw error;
  }
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

async function lstatOrUndefined(file: string) {
  try {
    return await lstat(file);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}
