import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { startsWithGzipMagic } from '../archive/archiveScan';
import { BrokenChainError } from '../incremental/chainTree';
import { mergedChainStream } from '../incremental/mergedChainStream';
import { openChain, type ChainLink, type OpenedChain } from '../incremental/openChain';
import type { ArchiveTally } from './archiveTally';
import { chainTally, memberPaths } from './chainTally';
import { RestoreStageError } from './restoreStage';

/**
 * What a restore writes into the volume: one archive file, or the chain of an incremental backup read as
 * one merged tar. Both passes of a restore (the local tally, then the upload) read the same bytes from it,
 * unless the tally is known in advance (`tally`): then only the upload reads them.
 */
export interface RestoreSource {
  /** A fresh stream of the bytes to tally and extract; each call reads from the start. */
  read(signal?: AbortSignal): Readable;
  /** read() gives gzip data (an archive file); false for a plain tar (a merged chain, a `none` archive). */
  readonly gzipped: boolean;
  /** Archives read: 1 for a single archive, the chain's length otherwise. */
  readonly archives: number;
  /** Checksum of the backup's own archive when it was checked while opening (a chain), else undefined. */
  readonly ownSha256?: string;
  /**
   * The tally of read()'s bytes for the requested paths, when it is known without reading them (a chain, counted
   * from the headers read while opening it; read() then fails naming any archive that changed since).
   */
  readonly tally?: ArchiveTally;
}

/** The next step for a chain that cannot be restored: the same for every way it breaks. */
export const BROKEN_CHAIN_NEXT_STEP =
  'Restore a full backup of this volume or an incremental one whose chain is whole (nkvm verify <id> checks a chain), ' +
  'or put the named archive back where the history says it is.';

/** A single archive file, as every full backup is restored. */
export async function archiveFileSource(path: string): Promise<RestoreSource> {
  const gzipped = await startsWithGzipMagic(path);
  return { read: (signal) => createReadStream(path, { highWaterMark: 256 * 1024, signal }), gzipped, archives: 1 };
}

/**
 * An incremental backup's chain (oldest first, ending with the backup's own archive), opened once: every
 * archive present, matching its recorded checksum and naming the one before it. Its bytes are the volume
 * at the newest archive as one plain tar, limited to `paths` (as the user names them, UTF-8) when given.
 */
export async function chainSource(
  links: readonly ChainLink[],
  paths: readonly string[] | undefined,
  signal?: AbortSignal,
): Promise<RestoreSource> {
  let opened: OpenedChain;
  let tally: ArchiveTally | undefined;
  try {
    opened = await openChain(links, signal);
    tally = chainTally(opened, paths);
  } catch (e) {
    if (e instanceof BrokenChainError) throw new RestoreStageError('create', `the backup's chain cannot be restored: ${e.message}`, BROKEN_CHAIN_NEXT_STEP);
    throw e;
  }
  // Chain members are named by their bytes, one latin1 character each, like the names the merge compares.
  const selected = memberPaths(paths);
  const own = opened.archives[opened.archives.length - 1]!;
  return {
    read: (readSignal) => mergedChainStream(opened, { ...(selected ? { paths: selected } : {}), ...(readSignal ? { signal: readSignal } : {}) }),
    gzipped: false,
    archives: opened.archives.length,
    ownSha256: own.sha256,
    ...(tally ? { tally } : {}),
  };
}

/** The chain is restored through the merge only when there is more than the full backup itself. */
export function isChain(links: readonly ChainLink[] | undefined): links is readonly ChainLink[] {
  return !!links && links.length > 1;
}

/** Refuses a path that is not a readable file, before it is opened. */
export async function checkArchiveFile(path: string): Promise<void> {
  try {
    if (!(await stat(path)).isFile()) throw new Error('not a file');
  } catch (e) {
    const next = 'Check the archive path; if it was moved or pruned, pick another backup.';
    throw new RestoreStageError('create', `cannot read the archive ${path}: ${(e as Error).message}`, next);
  }
}
