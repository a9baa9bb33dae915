import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { PassThrough, Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract, type Headers } from 'tar-stream';
import { startsWithGzipMagic } from './archiveScan';

/** What a restore makes of a tar entry: a hard link is another name for a file written before it. */
export type DigestEntryType = 'file' | 'directory' | 'symlink' | 'link' | 'other';

/** One archive entry as a restore must reproduce it. */
export interface DigestEntry {
  /**
   * The name's bytes, one character per byte (latin1), so names that are not UTF-8 stay exact; without
   * a leading `./` or trailing `/`; the archive's root folder is ''.
   */
  readonly name: string;
  readonly type: DigestEntryType;
  readonly size: number;
  /** Permission bits with setuid, setgid and sticky (07777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Whole seconds, as tar stores them. */
  readonly mtime: number;
  /** Symlink target, or the name a hard link points at (normalised like `name`); bytes as latin1. */
  readonly linkname?: string;
  /** Lower-case hex SHA-256 of a regular file's data. */
  readonly sha256?: string;
}

export interface ArchiveDigests {
  readonly entries: DigestEntry[];
}

/** `./a/b/` → `a/b`; `.` and `./` → ''. Works on latin1 byte strings. */
export function normaliseDigestName(name: string): string {
  let n = name;
  while (n.startsWith('./')) n = n.slice(2);
  while (n.length > 1 && n.endsWith('/')) n = n.slice(0, -1);
  return n === '.' || n === '/' ? '' : n;
}

/** A name's bytes (latin1 string) for people: UTF-8 when it is, else with `\xNN` for the bytes that are not. */
export function displayName(name: string): string {
  const bytes = Buffer.from(name, 'latin1');
  const text = bytes.toString('utf8');
  const exact = Buffer.from(text, 'utf8').equals(bytes) ? text : name.replace(/[\x80-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`);
  // Control characters found by code, as tarStderr does, not with a control-character regular expression.
  let shown = '';
  for (const c of exact) {
    const code = c.charCodeAt(0);
    shown += c === '\n' ? '\\n' : code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : c;
  }
  return shown;
}

function entryType(header: Headers): DigestEntryType {
  switch (header.type ?? 'file') {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'directory';
    case 'symlink':
      return 'symlink';
    case 'link':
      return 'link';
    default:
      return 'other';
  }
}

/**
 * Parses a tar (gzip'd or not) written into `input` and lists every entry with the SHA-256 of its data.
 * Memory stays flat: data is hashed as it passes, only one small record per entry is kept.
 */
export class ArchiveDigestParser {
  readonly input: Writable;
  /** The entries read so far: after a failure, those before the damage. */
  readonly entries: DigestEntry[] = [];
  /** Resolves with the listing once `input` has ended; rejects when the bytes are not a readable tar. */
  readonly result: Promise<ArchiveDigests>;

  /** `chunkSize`: gunzip's output chunk; zlib drops the chunk in progress at a damage, so small ones lose little. */
  constructor(gzipped: boolean, chunkSize?: number) {
    const entries = this.entries;
    // latin1 keeps each byte of a name; pax names are UTF-8 by definition.
    const parser = extract({ filenameEncoding: 'latin1' });
    const front: Transform = gzipped ? createGunzip(chunkSize ? { chunkSize } : {}) : new PassThrough({ highWaterMark: 1024 * 1024 });
    parser.on('entry', (header: Headers, body, next) => {
      const pax = (header as { pax?: Record<string, string> }).pax;
      const rawName = pax?.path !== undefined ? Buffer.from(pax.path, 'utf8').toString('latin1') : header.name;
      const rawLink = pax?.linkpath !== undefined ? Buffer.from(pax.linkpath, 'utf8').toString('latin1') : header.linkname || undefined;
      const type = entryType(header);
      const hash = type === 'file' ? createHash('sha256') : undefined;
      body.on('data', (chunk: Buffer) => hash?.update(chunk));
      body.on('error', () => undefined);
      body.on('end', () => {
        entries.push({
          name: normaliseDigestName(rawName),
          type,
          size: type === 'file' ? (header.size ?? 0) : 0,
          mode: (header.mode ?? 0) & 0o7777,
          uid: header.uid ?? 0,
          gid: header.gid ?? 0,
          mtime: Math.round((header.mtime?.getTime() ?? 0) / 1000),
          ...(rawLink !== undefined && (type === 'symlink' || type === 'link') ? { linkname: type === 'link' ? normaliseDigestName(rawLink) : rawLink } : {}),
          ...(hash ? { sha256: hash.digest('hex') } : {}),
        });
        next();
      });
    });
    // Piped by hand, not with pipeline(): a gzip error must let the parser finish the data it already has,
    // so the entries before the damage are listed.
    let failure: Error | undefined;
    front.on('data', (chunk: Buffer) => {
      if (!parser.write(chunk)) {
        front.pause();
        parser.once('drain', () => front.resume());
      }
    });
    front.on('end', () => parser.end());
    front.on('error', (e: Error) => {
      failure ??= e;
      if (!parser.destroyed) parser.end();
    });
    this.result = new Promise<ArchiveDigests>((resolve, reject) => {
      parser.on('finish', () => (failure ? reject(failure) : resolve({ entries })));
      parser.on('error', (e: Error) => reject(failure ?? e));
    });
    this.result.catch(() => undefined);
    this.input = front;
  }
}

/**
 * A pass-through stage that lists the archive flowing through it (see ArchiveDigestParser). The parse
 * keeps pace through backpressure; if the bytes cannot be parsed, the listing is given up and the bytes
 * still pass unchanged, since a listing must never cost a backup.
 */
export class ArchiveDigestTap extends Transform {
  private readonly parser: ArchiveDigestParser;
  private failure: Error | undefined;
  private listing: ArchiveDigests | undefined;

  constructor(gzipped: boolean, chunkSize?: number) {
    super({ highWaterMark: 1024 * 1024 });
    this.parser = new ArchiveDigestParser(gzipped, chunkSize);
    this.parser.result.then(
      (l) => (this.listing = l),
      (e: Error) => (this.failure ??= e),
    );
    this.parser.input.on('error', (e: Error) => (this.failure ??= e));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.failure || this.parser.input.write(chunk)) {
      callback(null, chunk);
      return;
    }
    const go = (): void => {
      this.parser.input.off('drain', go);
      this.parser.input.off('close', go);
      callback(null, chunk);
    };
    this.parser.input.once('drain', go);
    this.parser.input.once('close', go);
  }

  override _flush(callback: TransformCallback): void {
    if (this.failure) return callback();
    this.parser.input.end();
    this.parser.result.then(
      () => callback(),
      () => callback(),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.failure ??= error ?? new Error('the archive stream stopped early');
    this.parser.input.destroy();
    callback(error);
  }

  /** The listing, once the stream has ended; undefined with the reason when it could not be made. */
  digests(): { digests?: ArchiveDigests; problem?: string } {
    if (this.listing) return { digests: this.listing };
    return { problem: this.failure?.message ?? 'the archive stream did not end' };
  }
}

/** What an archive file holds: its sha256, and its listing up to the end or to the damage. */
export interface ArchiveFileDigests extends ArchiveDigests {
  readonly sha256: string;
  /** Why the listing stops before the end (damaged gzip or tar data); the entries before it are kept. */
  readonly problem?: string;
}

/** The listing and checksum of an archive file (gzip'd or not, told by its content), in one read. */
export async function digestArchiveFile(archivePath: string, signal?: AbortSignal): Promise<ArchiveFileDigests> {
  const gzipped = await startsWithGzipMagic(archivePath);
  const read = await readDigests(archivePath, new ArchiveDigestParser(gzipped), signal);
  // A damaged gzip stream ends in an error that takes the output in progress with it: read again in
  // small pieces to list every entry that lies before the damage.
  if (!read.problem || !gzipped) return read;
  return readDigests(archivePath, new ArchiveDigestParser(gzipped, SALVAGE_CHUNK), signal);
}

/** The tar's end-of-archive blocks are 1024 bytes: losing no more than that keeps every entry. */
const SALVAGE_CHUNK = 1024;

async function readDigests(archivePath: string, parser: ArchiveDigestParser, signal?: AbortSignal): Promise<ArchiveFileDigests> {
  const hash = createHash('sha256');
  let problem: string | undefined;
  // The file's checksum must cover every byte even when the listing stops at damage.
  const tap = new Writable({
    highWaterMark: 256 * 1024,
    write(chunk: Buffer, _e, callback) {
      hash.update(chunk);
      if (problem !== undefined || parser.input.write(chunk)) return callback();
      const go = (): void => (parser.input.off('close', go), parser.input.off('drain', go), callback());
      parser.input.once('drain', go);
      parser.input.once('close', go);
    },
    final(callback) {
      if (problem === undefined) parser.input.end();
      callback();
    },
  });
  parser.input.on('error', (e: Error) => (problem ??= e.message));
  parser.result.catch((e: Error) => (problem ??= e.message));
  await pipeline(createReadStream(archivePath, { highWaterMark: 256 * 1024 }), tap, { signal });
  await parser.result.catch(() => undefined);
  return { entries: parser.entries, sha256: hash.digest('hex'), ...(problem !== undefined ? { problem } : {}) };
}
