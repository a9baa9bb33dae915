import * as path from 'node:path';

/** The parts of a tar header that decide whether an entry may be extracted or restored. */
export interface ArchiveEntryHeader {
  /** As written in the archive (tar-stream's `header.name`). */
  path: string;
  /** tar-stream's `header.type`: 'file', 'directory', 'symlink', 'link', 'character-device', ... */
  type: string;
  linkname?: string;
}

// fifo is kept: a named pipe in a volume is ordinary data and cannot point anywhere.
const SAFE_TYPES = new Set(['file', 'contiguous-file', 'directory', 'symlink', 'link', 'fifo']);

/**
 * Why extracting or restoring this entry could write outside the target folder or create a device node,
 * or undefined when it is safe on its own. Checks only the entry itself: a chain of safe-looking symlinks
 * in the target is the extractor's job (see extractArchive).
 */
export function unsafeEntryReason(entry: ArchiveEntryHeader): string | undefined {
  if (entry.type === 'character-device' || entry.type === 'block-device') {
    return `device file (${entry.type}) is never extracted`;
  }
  if (!SAFE_TYPES.has(entry.type)) return `unsupported entry type ${JSON.stringify(entry.type)}`;

  const pathProblem = archivePathProblem(entry.path);
  if (pathProblem) return pathProblem;

  if (entry.type === 'symlink') {
    const target = entry.linkname ?? '';
    if (target === '') return 'symlink without a target';
    if (isAbsoluteName(target)) return `symlink to absolute path ${target}`;
    // The target is resolved from the folder holding the link, as the kernel does.
    const folder = splitComponents(entry.path).slice(0, -1);
    if (escapesRoot([...folder, ...splitComponents(target)])) {
      return `symlink target ${target} points outside the archive`;
    }
  }
  if (entry.type === 'link') {
    // Hard link names are archive paths, relative to the archive root.
    const target = entry.linkname ?? '';
    if (target === '') return 'hard link without a target';
    if (isAbsoluteName(target)) return `hard link to absolute path ${target}`;
    if (escapesRoot(splitComponents(target))) return `hard link target ${target} points outside the archive`;
  }
  return undefined;
}

/** The entry path as the archive browser shows it: no leading `./` or `/`, no trailing `/`. */
export function normaliseEntryPath(name: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  return parts.join('/');
}

function archivePathProblem(name: string): string | undefined {
  if (name.includes('\0')) return 'path contains a NUL byte';
  if (isAbsoluteName(name)) return `absolute path ${name}`;
  if (escapesRoot(splitComponents(name))) return `path ${name} leads outside the archive with ..`;
  return undefined;
}

// Backslashes and drive letters count too: on Windows they are separators and roots.
function isAbsoluteName(name: string): boolean {
  return name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name) || path.win32.isAbsolute(name);
}

function splitComponents(name: string): string[] {
  return name.split(/[\\/]/).filter((p) => p !== '' && p !== '.');
}

function escapesRoot(components: string[]): boolean {
  let depth = 0;
  for (const part of components) {
    depth += part === '..' ? -1 : 1;
    if (depth < 0) return true;
  }
  return false;
}
