import { posix } from 'node:path';
import type { ArchiveIndex, ArchiveIndexEntry } from './archiveIndex';
import { normaliseEntryPath } from './entrySafety';

export type ArchiveNodeKind = 'file' | 'directory' | 'symlink' | 'other';

/** One path of the archive as a file browser sees it; folders the archive only implies are included. */
export interface ArchiveNode {
  readonly path: string;
  readonly kind: ArchiveNodeKind;
  readonly size: number;
  readonly mode: number;
  readonly mtimeMs: number;
  readonly linkname?: string;
  /** Hard links point at the entry that holds the data. */
  readonly hardLinkTo?: string;
}

const FOLLOW_LIMIT = 40;

/** The archive's entries as folders and files, for browsing; built once per opened index. */
export class ArchiveDirectory {
  private readonly nodes = new Map<string, ArchiveNode>();
  private readonly children = new Map<string, Map<string, ArchiveNode>>();

  constructor(index: ArchiveIndex, rootMtimeMs = 0) {
    this.nodes.set('', { path: '', kind: 'directory', size: 0, mode: 0o755, mtimeMs: rootMtimeMs });
    this.children.set('', new Map());
    for (const entry of index.entries) this.add(entry);
  }

  get size(): number {
    return this.nodes.size - 1;
  }

  /** The node at this path, following symlinks and hard links inside the archive when asked. */
  lookup(path: string, options: { follow?: boolean } = {}): ArchiveNode | undefined {
    let current = normaliseEntryPath(path);
    for (let hops = 0; hops < FOLLOW_LIMIT; hops++) {
      const node = this.resolveParents(current);
      if (!node) return undefined;
      if (node.hardLinkTo !== undefined) {
        const target = this.nodes.get(node.hardLinkTo);
        return target ? { ...target, path: node.path } : undefined;
      }
      if (!options.follow || node.kind !== 'symlink') return node;
      current = posix.normalize(posix.join(posix.dirname(node.path), node.linkname ?? ''));
      if (current === '.') current = '';
      // Unsafe links never make it into the index; this only guards against a damaged one.
      if (current === '..' || current.startsWith('../')) return undefined;
    }
    return undefined;
  }

  /** The entries of a folder, sorted by name; undefined when the path is not a folder. */
  list(path: string): ArchiveNode[] | undefined {
    const node = this.lookup(path, { follow: true });
    if (!node || node.kind !== 'directory') return undefined;
    const entries = this.children.get(node.path);
    return entries ? [...entries.values()].sort((a, b) => a.path.localeCompare(b.path)) : [];
  }

  // Resolves symlinked folders in the parents, so a path inside a linked folder is found.
  private resolveParents(path: string): ArchiveNode | undefined {
    const direct = this.nodes.get(path);
    if (direct || path === '') return direct;
    const slash = path.lastIndexOf('/');
    if (slash < 0) return undefined;
    const parent = this.lookup(path.slice(0, slash), { follow: true });
    if (!parent || parent.kind !== 'directory') return undefined;
    return this.nodes.get(parent.path === '' ? path.slice(slash + 1) : `${parent.path}/${path.slice(slash + 1)}`);
  }

  private add(entry: ArchiveIndexEntry): void {
    const path = normaliseEntryPath(entry.path);
    if (path === '') return;
    this.ensureFolder(posix.dirname(path) === '.' ? '' : posix.dirname(path));
    const node: ArchiveNode = {
      path,
      kind: kindOf(entry.type),
      size: entry.size,
      mode: entry.mode,
      mtimeMs: entry.mtimeMs,
      ...(entry.type === 'symlink' ? { linkname: entry.linkname } : {}),
      ...(entry.type === 'link' && entry.linkname !== undefined ? { hardLinkTo: normaliseEntryPath(entry.linkname) } : {}),
    };
    // A later entry with the same name replaces the earlier one, as extracting the archive would.
    const existing = this.nodes.get(path);
    this.nodes.set(path, existing?.kind === 'directory' && node.kind === 'directory' ? { ...node } : node);
    this.children.get(parentOf(path))!.set(path, node);
    if (node.kind === 'directory' && !this.children.has(path)) this.children.set(path, new Map());
  }

  private ensureFolder(path: string): void {
    if (this.nodes.has(path)) return;
    this.ensureFolder(parentOf(path));
    const node: ArchiveNode = { path, kind: 'directory', size: 0, mode: 0o755, mtimeMs: 0 };
    this.nodes.set(path, node);
    this.children.set(path, new Map());
    this.children.get(parentOf(path))!.set(path, node);
  }
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

function kindOf(type: string): ArchiveNodeKind {
  if (type === 'file' || type === 'contiguous-file' || type === 'link') return 'file';
  if (type === 'directory') return 'directory';
  if (type === 'symlink') return 'symlink';
  return 'other';
}

/** `drwxr-xr-x`-style text for a mode, as `ls -l` shows it. */
export function modeText(kind: ArchiveNodeKind, mode: number): string {
  const type = kind === 'directory' ? 'd' : kind === 'symlink' ? 'l' : kind === 'other' ? 'p' : '-';
  const bits = 'rwxrwxrwx'
    .split('')
    .map((c, i) => (mode & (0o400 >> i) ? c : '-'))
    .join('');
  return type + bits;
}
