import { pipeline } from 'node:stream/promises';
import { ArchiveDigestParser, digestArchiveFile, type ArchiveFileDigests } from '../archive/archiveDigests';
import type { ChainLink } from '../incremental/openChain';
import { chainSource, isChain } from '../restore/restoreSource';

/**
 * What a drill restores, listed here before it is sent: the archive file, or for an incremental backup the
 * volume at that backup as its chain merges to (every archive checked against its recorded checksum first;
 * a broken chain throws a RestoreStageError naming the backup). `sha256` is the backup's own archive's.
 */
export async function drillArchiveDigests(
  archivePath: string,
  chain: readonly ChainLink[] | undefined,
  signal?: AbortSignal,
): Promise<ArchiveFileDigests> {
  if (!isChain(chain)) return digestArchiveFile(archivePath, signal);
  const source = await chainSource(chain, undefined, signal);
  const parser = new ArchiveDigestParser(false);
  await pipeline(source.read(signal), parser.input, { signal });
  const { entries } = await parser.result;
  return { sha256: source.ownSha256!, entries };
}
