import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, type Readable, type Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Headers } from 'tar-stream';
import { ArchiveDamagedError } from './archiveErrors';
import { normaliseEntryPath } from './entrySafety';

/** One tar entry as the scan meets it. `body` must be read within the visit or it is skipped. */
export interface ScannedEntry {
  /** The name as stored in the archive (`./data/x`). */
  readonly rawPath: string;
  /** Without `./` or trailing `/`; the archive root is ''. */
  readonly path: string;
  readonly type: string;
  readonly size: number;
  readonly mode: number;
  readonly mtimeMs: number;
  readonly linkname: string | undefined;
  /** Byte offset of the entry's data in the uncompressed tar stream. */
  readonly dataOffset: number;
  readonly body: AsyncIterable<Buffer>;
}

/** `false` stops the scan early (the rest of the file is not read). */
export type EntryVisitor = (entry: ScannedEntry) => Promise<boolean | void> | boolean | void;

export interface ScanOptions {
  readonly signal?: AbortSignal;
  /** Sees every compressed byte in order, e.g. to hash the file in the same pass. */
  readonly onCompressedChunk?: (chunk: Buffer) => void;
}

export interface ScanResult {
  readonly stoppedEarly: boolean;
  readonly entries: number;
  readonly compressedBytes: number;
  readonly uncompressedBytes: number;
  /** True when the tar ends with its end-of-archive blocks (two zero blocks); false if cut at an entry boundary. */
  readonly endMarker: boolean;
  readonly lastEntry: string | undefined;
}

const BLOCK = 512;

/**
 * Streams a `.tar.gz` (or a plain `.tar`, written with `nkvm.compression` = `none`) through gunzip
 * and a tar parser, one entry at a time, with backpressure. Errors in either layer become an
 * ArchiveDamagedError naming the last good entry.
 */
export async function scanArchive(archivePath: string, visit: EntryVisitor, options: ScanOptions = {}): Promise<ScanResult> {
  options.signal?.throwIfAborted();
  // Told apart by content, not name: a renamed file must still be read as what it is.
  const gzipped = await startsWithGzipMagic(archivePath);
  const source = createReadStream(archivePath, { highWaterMark: 256 * 1024 });
  return scanStream(source, archivePath, gzipped ? createGunzip() : new PassThrough(), visit, options);
}

/**
 * The same scan over a plain tar stream that is not a file, e.g. an incremental chain merged into one tar.
 * `label` names it in errors; the stream is destroyed when the scan ends, early or not.
 */
export async function scanTar(tar: Readable, label: string, visit: EntryVisitor, options: ScanOptions = {}): Promise<ScanResult> {
  if (options.signal?.aborted) {
    tar.destroy();
    options.signal.throwIfAborted();
  }
  return scanStream(tar, label, new PassThrough(), visit, options);
}

/** Whether a file is gzip'd, told by its first two bytes (`.tar` archives of `nkvm.compression` = `none` are not). */
export async function startsWithGzipMagic(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

function scanStream(
  source: Readable,
  archivePath: string,
  gunzip: Transform,
  visit: EntryVisitor,
  options: ScanOptions,
): Promise<ScanResult> {
  const { signal } = options;
  return new Promise<ScanResult>((resolve, reject) => {
    const tar = tarExtract();
    let settled = false;
    let entries = 0;
    let lastEntry: string | undefined;
    let lastEntryEnd = 0;
    let compressedBytes = 0;
    let uncompressedBytes = 0;
    // The visit in progress; a failure waits for it, so its clean-up is done when the caller hears of it.
    let visiting: Promise<unknown> = Promise.resolve();

    const finish = (error: unknown, stoppedEarly = false): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      // Destroying the parser with the error fails the entry body a visitor may be reading.
      const cause = error instanceof Error ? error : error === undefined ? undefined : new Error(String(error));
      source.destroy();
      gunzip.destroy();
      tar.destroy(cause);
      if (error !== undefined) {
        void visiting.then(() => reject(error));
        return;
      }
      resolve({
        stoppedEarly,
        entries,
        compressedBytes,
        uncompressedBytes,
        endMarker: !stoppedEarly && uncompressedBytes - lastEntryEnd >= 2 * BLOCK,
        lastEntry,
      });
    };
    const onAbort = (): void => finish(signal?.reason ?? new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });

    source.on('data', (chunk) => {
      const bytes = chunk as Buffer;
      compressedBytes += bytes.length;
      options.onCompressedChunk?.(bytes);
    });
    source.on('error', (error) => finish(error));
    gunzip.on('data', (chunk: Buffer) => {
      uncompressedBytes += chunk.length;
    });
    gunzip.on('error', (error) => finish(new ArchiveDamagedError(archivePath, 'gzip', lastEntry, error.message)));
    tar.on('error', (error: Error) => finish(new ArchiveDamagedError(archivePath, 'tar', lastEntry, error.message)));
    tar.on('finish', () => finish(undefined));

    tar.on('entry', (header: Headers, body, next) => {
      const size = header.size ?? 0;
      // tar-stream records where the entry's (last) header block starts; its data follows that block.
      const dataOffset = Number((body as unknown as { offset: number }).offset) + BLOCK;
      const hasData = header.type === 'file' || header.type === 'contiguous-file' || header.type === undefined;
      lastEntryEnd = dataOffset + (hasData ? Math.ceil(size / BLOCK) * BLOCK : 0);
      let ended = false;
      let waiting = false;
      body.on('end', () => {
        ended = true;
        if (waiting) next();
      });
      // A damaged archive destroys the body with the error `finish` reports; a visitor that reads
      // the body sees it too, but one that skips the body must not turn it into an uncaught error.
      body.on('error', () => undefined);
      const entry: ScannedEntry = {
        rawPath: header.name,
        path: normaliseEntryPath(header.name),
        type: header.type ?? 'file',
        size,
        mode: header.mode ?? 0,
        mtimeMs: header.mtime?.getTime() ?? 0,
        linkname: header.linkname ?? undefined,
        dataOffset,
        body: body as unknown as AsyncIterable<Buffer>,
      };
      const visit$ = Promise.resolve().then(() => visit(entry));
      visiting = visit$.catch(() => undefined);
      visit$
        .then(
          (result) => {
            if (settled) return;
            entries++;
            lastEntry = entry.rawPath;
            if (result === false) {
              finish(undefined, true);
              return;
            }
            if (ended) next();
            else {
              waiting = true;
              body.resume();
            }
          },
          (error: unknown) => finish(error),
        );
    });

    source.pipe(gunzip).pipe(tar as unknown as NodeJS.WritableStream);
  });
}
