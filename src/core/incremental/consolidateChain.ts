import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { mergedChainStream } from './mergedChainStream';
import type { OpenedChain } from './openChain';

export interface ConsolidateOptions {
  readonly compression: 'gzip' | 'none';
  /** gzip level 1 (fastest) to 9 (smallest); 6 when not given. */
  readonly level?: number;
  readonly signal?: AbortSignal;
  readonly spoolDir?: string;
}

export interface ConsolidatedArchive {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

/**
 * Writes the volume at the chain's newest archive as one full archive (no manifest: a standard .tar.gz, or
 * .tar with compression none) that restores with tar alone. It is written under `<target>.partial` and
 * renamed only once complete; on any failure the partial file is removed, so no half-written archive
 * carries the final name.
 */
export async function consolidateChain(chain: OpenedChain, targetPath: string, options: ConsolidateOptions): Promise<ConsolidatedArchive> {
  const level = options.level ?? 6;
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new RangeError(`gzip level must be 1 to 9, got ${level}`);
  const partial = `${targetPath}.partial`;
  const hash = createHash('sha256');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  try {
    const compress = options.compression === 'gzip' ? createGzip({ level }) : new PassThrough();
    const { signal, spoolDir } = options;
    const merged = mergedChainStream(chain, { ...(signal ? { signal } : {}), ...(spoolDir ? { spoolDir } : {}) });
    await pipeline(merged, compress, measure, createWriteStream(partial), signal ? { signal } : {});
    await rename(partial, targetPath);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return { path: targetPath, sha256: hash.digest('hex'), size };
}
