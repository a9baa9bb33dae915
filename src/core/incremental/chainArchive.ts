import { digestArchiveFile } from '../archive/archiveDigests';
import { BrokenChainError, type ChainArchive } from './chainTree';
import { readManifest } from './manifestMember';

/**
 * An archive as a link of a chain: its manifest (none for a full backup), its members and its checksum,
 * read from the file. A damaged archive is refused: a chain built on part of one would restore the wrong tree.
 */
export async function readChainArchive(path: string, id?: number, signal?: AbortSignal): Promise<ChainArchive> {
  const manifest = await readManifest(path, signal);
  const read = await digestArchiveFile(path, signal);
  if (read.problem) throw new BrokenChainError(`${path} is damaged (${read.problem}); a chain cannot be restored through it`);
  // The manifest is the first member; a later member of the same name is the volume's own file.
  const members = (manifest ? read.entries.slice(1) : read.entries).map((e) => e.name);
  return { path, sha256: read.sha256, members, ...(id !== undefined ? { id } : {}), ...(manifest ? { manifest } : {}) };
}
