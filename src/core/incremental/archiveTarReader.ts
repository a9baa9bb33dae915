import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { startsWithGzipMagic } from '../archive/archiveScan';
import { TarBlockReader } from './rawTarEntries';

/** An archive file opened as a plain tar stream (gunzip'd when gzip'd), hashing the file's bytes as they are read. */
export interface ArchiveTar {
  readonly reader: TarBlockReader;
  /** SHA-256 of the file's bytes; complete once the reader has been drained. */
  sha256(): string;
  close(): void;
}

export async function openArchiveTar(path: string): Promise<ArchiveTar> {
  // Told apart by content, not name, as scanArchive does: `.tar` archives of nkvm.compression = none are plain.
  const gzipped = await startsWithGzipMagic(path);
  const file = createReadStream(path, { highWaterMark: 256 * 1024 });
  const hash = createHash('sha256');
  file.on('data', (chunk) => hash.update(chunk as Buffer));
  // gunzip goes on across gzip members, so an incremental archive (manifest member, then the pod's) reads as one tar.
  // Large output chunks: each chunk passes through async iterators and generators, and 16 KiB ones halved the merge's speed.
  const plain = gzipped ? createGunzip({ chunkSize: 256 * 1024 }) : new PassThrough({ highWaterMark: 256 * 1024 });
  file.on('error', (error) => plain.destroy(error));
  file.pipe(plain);
  return {
    reader: new TarBlockReader(plain[Symbol.asyncIterator]() as AsyncIterator<Buffer>),
    sha256: () => hash.copy().digest('hex'),
    close: () => {
      file.destroy();
      plain.destroy();
    },
  };
}
