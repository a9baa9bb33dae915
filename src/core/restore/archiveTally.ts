import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { startsWithGzipMagic } from '../archive/archiveScan';
import { normaliseEntryPath, unsafeEntryReason } from '../archive/entrySafety';

/** What an archive holds, counted the way the helper pod counts what it wrote. */
export interface ArchiveTally {
  /** sha256 of the archive file's bytes, as `sha256sum` prints it. */
  sha256: string;
  /** A `.tar.gz`; false for the plain `.tar` of `nkvm.compression` = `none`. */
  gzipped: boolean;
  /** Size of the compressed archive. */
  archiveBytes: number;
  /** Regular files (hard links included: they arrive as regular files) among the selected entries. */
  files: number;
  /** Their sizes added up, as `stat` reports them once extracted. */
  bytes: number;
  /** Selected entries of every type, folders and links included. */
  entries: number;
  /** Selected entries that must never reach a volume, with the reason. */
  unsafe: { path: string; reason: string }[];
  /**
   * Each requested path as the archive spells its members (`./docs` or `docs`), which is what tar
   * must be given; undefined for a path no entry matches.
   */
  members: Map<string, string | undefined>;
  /** The selected regular files and hard links, as the bytes of their archive names: what the helper counts. */
  fileNames: Buffer[];
  /**
   * Folders and files with setuid, setgid or sticky bits among the selected entries, children before
   * parents: modes that a non-root BusyBox tar leaves out and a folder's setgid parent adds, set again.
   */
  modes: { name: Buffer; mode: number }[];
  /** Who owns the selected entries, as the tar headers say (numeric ids), most entries first. */
  owners: { uid: number; gid: number; entries: number }[];
  /** The mode of the archive's own root folder (`./`), when the whole archive is selected. */
  rootMode?: number;
}

const MAX_UNSAFE_LISTED = 20;

/** One entry as the tar reader sees it: its name's and link target's bytes as stored, its type and header numbers. */
export interface TallyEntry {
  readonly rawName: Buffer;
  readonly rawLink: Buffer | undefined;
  /** tar-stream's type name (`file`, `link`, `directory`, ...), null for a type it does not know. */
  readonly type: string | null | undefined;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
}

/** What a tally knows without the archive's own bytes: everything but the checksum and the archive's size. */
export type EntryTally = Omit<ArchiveTally, 'sha256' | 'gzipped' | 'archiveBytes'>;

/**
 * Counts entries, in archive order, as the helper pod will count what it wrote. Fed by
 * {@link ArchiveTallyStream} from a tar's bytes, or by a chain's headers read while it was opened.
 */
export class ArchiveTallyCounter {
  private readonly wanted: string[];
  private readonly members: Map<string, string | undefined>;
  private readonly sizes = new Map<string, number>();
  private readonly symlinks = new Set<string>();
  private readonly tally = {
    files: 0, bytes: 0, entries: 0, unsafe: [] as ArchiveTally['unsafe'], fileNames: [] as Buffer[], modes: [] as ArchiveTally['modes'],
  };
  private readonly owners = new Map<string, { uid: number; gid: number; entries: number }>();
  private rootMode: number | undefined;

  constructor(paths: readonly string[] = []) {
    this.wanted = paths.map(normaliseEntryPath);
    this.members = new Map<string, string | undefined>(this.wanted.map((p) => [p, undefined]));
  }

  add(entry: TallyEntry): void {
    const { tally, sizes, symlinks, members, owners } = this;
    const { rawName, type } = entry;
    const header = { name: rawName.toString('utf8'), linkname: entry.rawLink?.toString('utf8') ?? null };
    const name = normaliseEntryPath(header.name);
    const selected = this.wanted.length === 0 || this.wanted.some((p) => {
      const hit = p === '' || name === p || name.startsWith(`${p}/`);
      if (hit && members.get(p) === undefined) members.set(p, header.name.startsWith('./') ? `./${p}` : p);
      return hit;
    });
    if (selected) {
      tally.entries++;
      if (name === '' && type === 'directory') this.rootMode = entry.mode & 0o7777;
      if (name !== '') {
        const { uid, gid } = entry;
        const owner = owners.get(`${uid}:${gid}`) ?? { uid, gid, entries: 0 };
        owner.entries++;
        owners.set(`${uid}:${gid}`, owner);
      }
      // An absolute link target resolves inside the helper's own file system, never this machine's: harmless
      // in a volume unless an entry is written through the link, which is refused for every link.
      const absoluteLink = type === 'symlink' && !!header.linkname?.startsWith('/');
      const through = ancestorsOf(name).find((a) => symlinks.has(a));
      const reason =
        unsafeEntryReason({ path: header.name, type: type ?? 'file', linkname: absoluteLink ? '.' : (header.linkname ?? undefined) }) ??
        (through !== undefined ? `path passes through the symlink ${through}` : undefined);
      if (reason && tally.unsafe.length < MAX_UNSAFE_LISTED) tally.unsafe.push({ path: header.name, reason });
      const special = entry.mode & 0o7000;
      if (name !== '' && (type === 'directory' || (special && (type === 'file' || type === 'contiguous-file')))) {
        tally.modes.push({ name: rawName, mode: entry.mode & 0o7777 });
      }
      if (type === 'file' || type === 'contiguous-file' || type === 'link') tally.fileNames.push(rawName);
      if (type === 'file' || type === 'contiguous-file') {
        tally.files++;
        tally.bytes += entry.size;
        sizes.set(name, entry.size);
      } else if (type === 'link') {
        // A hard link is written as another name for a file already extracted: stat sees that file's size.
        const size = sizes.get(normaliseEntryPath(header.linkname ?? '')) ?? 0;
        tally.files++;
        tally.bytes += size;
        sizes.set(name, size);
      }
    } else if (type === 'file' || type === 'contiguous-file') {
      sizes.set(name, entry.size);
    }
    if (type === 'symlink') symlinks.add(name);
  }

  /** The tally of every entry added; call once, after the last. */
  finish(): EntryTally {
    const byCount = [...this.owners.values()].sort((a, b) => b.entries - a.entries || a.uid - b.uid);
    const root = this.rootMode !== undefined ? { rootMode: this.rootMode } : {};
    return { ...this.tally, modes: this.tally.modes.reverse(), owners: byCount, ...root, members: this.members };
  }
}

/**
 * Counts a gzip tar as it streams past: the raw bytes' sha256, and the regular files and bytes under
 * the selected paths (all of them without `paths`). Write the archive's bytes into `input`, end it,
 * then await `result`.
 */
export class ArchiveTallyStream {
  readonly input: Writable;
  readonly result: Promise<ArchiveTally>;
  private readonly hash = createHash('sha256');
  private archiveBytes = 0;

  constructor(paths: readonly string[] = [], gzipped = true) {
    const counter = new ArchiveTallyCounter(paths);
    const gunzip: Transform = gzipped ? createGunzip() : new PassThrough();
    // Names are read as bytes (latin1 keeps each byte), so a name that is not UTF-8 reaches the helper unchanged.
    const parser = extract({ filenameEncoding: 'latin1' });

    parser.on('entry', (rawHeader, body, next) => {
      const pax = (rawHeader as { pax?: Record<string, string> }).pax;
      const rawName = pax?.path !== undefined ? Buffer.from(pax.path) : Buffer.from(rawHeader.name, 'latin1');
      const rawLink = pax?.linkpath !== undefined ? Buffer.from(pax.linkpath) : rawHeader.linkname ? Buffer.from(rawHeader.linkname, 'latin1') : undefined;
      const numbers = { mode: rawHeader.mode ?? 0, uid: rawHeader.uid ?? 0, gid: rawHeader.gid ?? 0, size: rawHeader.size ?? 0 };
      counter.add({ rawName, rawLink, type: rawHeader.type, ...numbers });
      body.on('end', () => next());
      body.resume();
    });

    const parsed = new Promise<void>((resolve, reject) => {
      gunzip.on('error', (e) => reject(new Error(`damaged gzip data: ${e.message}`)));
      parser.on('error', (e: Error) => reject(new Error(`not a tar archive or damaged: ${e.message}`)));
      parser.on('finish', () => resolve());
    });
    gunzip.pipe(parser);

    this.input = new Writable({
      highWaterMark: 1024 * 1024,
      write: (chunk: Buffer, _enc, callback) => {
        this.hash.update(chunk);
        this.archiveBytes += chunk.length;
        if (gunzip.write(chunk)) callback();
        else gunzip.once('drain', () => callback());
      },
      final: (callback) => {
        gunzip.end();
        callback();
      },
    });
    this.result = parsed.then(() => ({ ...counter.finish(), gzipped, sha256: this.hash.digest('hex'), archiveBytes: this.archiveBytes }));
    // A damaged archive stops the writer too, so nothing waits for a drain that never comes.
    parsed.catch((e: Error) => this.input.destroy(e));
    this.result.catch(() => undefined);
  }
}

/** Reads a whole archive file through {@link ArchiveTallyStream}. */
export async function tallyArchiveFile(path: string, paths: readonly string[] = [], signal?: AbortSignal): Promise<ArchiveTally> {
  return tallyStream(createReadStream(path), await startsWithGzipMagic(path), paths, signal);
}

/** Counts the bytes of an archive (gzip'd or a plain tar, e.g. a merged chain) as they stream past. */
export async function tallyStream(bytes: Readable, gzipped: boolean, paths: readonly string[] = [], signal?: AbortSignal): Promise<ArchiveTally> {
  const tally = new ArchiveTallyStream(paths, gzipped);
  await pipeline(bytes, tally.input, { signal });
  return tally.result;
}

/** `a/b/c` → `a`, `a/b`. */
function ancestorsOf(name: string): string[] {
  const parts = name.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}
