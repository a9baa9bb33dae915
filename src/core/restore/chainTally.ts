import { normaliseDigestName } from '../archive/archiveDigests';
import { BrokenChainError } from '../incremental/chainTree';
import { linkTargetsLeftOut, mergeSelection } from '../incremental/mergedChainStream';
import { describeLink, type MergeArchive, type OpenedChain } from '../incremental/openChain';
import { roundUp } from '../incremental/rawTarEntries';
import { ArchiveTallyCounter, type ArchiveTally } from './archiveTally';

const BLOCK = 512;

/** Paths as the user names them (UTF-8) → as chain members are named (their bytes, one latin1 character each). */
export function memberPaths(paths: readonly string[] | undefined): string[] | undefined {
  return paths?.length ? paths.map((p) => Buffer.from(p, 'utf8').toString('latin1')) : undefined;
}

/**
 * The tally that ArchiveTallyStream would give of mergedChainStream(chain, { paths }), computed from the headers
 * openChain kept, without reading the archives again: the merge's choices replayed entry by entry. `archiveBytes`
 * is the merged tar's exact length; `sha256` is the backup's own archive's, as the merged bytes are never hashed
 * (the upload's merge checks each archive against openChain's checksum instead). Undefined when an archive has
 * headers the counting tar reader would read otherwise: the merged stream must then be counted.
 */
export function chainTally(chain: OpenedChain, paths: readonly string[] | undefined): ArchiveTally | undefined {
  if (chain.archives.some((a) => a.headers.unreadable !== undefined)) return undefined;
  const counter = new ArchiveTallyCounter(paths ?? []);
  const selected = mergeSelection(memberPaths(paths));
  const { sources } = chain.tree;
  const { since } = chain;
  // Hard link targets' sizes, kept across archives as the merge's spool keeps their data.
  const spool = new Map<string, number>();
  const folders = new FolderIndex(chain.archives);
  let archiveBytes = 2 * BLOCK;
  const emit = (archive: MergeArchive, at: number, asFile?: number): void => {
    const h = archive.headers;
    const rawName = Buffer.from(h.storedName(at, archive.members[at]!), 'latin1');
    const numbers = { mode: h.mode(at), uid: h.uid(at), gid: h.gid(at) };
    if (asFile !== undefined) {
      archiveBytes += h.asFileHeaderLength(at) + roundUp(asFile);
      counter.add({ rawName, rawLink: undefined, type: 'file', size: asFile, ...numbers });
      return;
    }
    archiveBytes += h.headerLength(at) + roundUp(h.size(at));
    const link = h.linkname(at);
    counter.add({ rawName, rawLink: link ? Buffer.from(link, 'latin1') : undefined, type: h.readerType(at), size: h.size(at), ...numbers });
  };

  chain.archives.forEach((archive, index) => {
    const h = archive.headers;
    const written = (path: string): boolean => selected(path) && sources.get(path) === index;
    const needed = linkTargetsLeftOut(archive, written);
    const inStream = new Set<string>();
    for (let at = 0; at < h.length; at++) {
      const name = archive.members[at]!;
      const typeflag = h.typeflag(at);
      if (typeflag === '5') {
        // A folder goes where it is in the tree for good, with the header of the archive that supplies it.
        if (selected(name) && since.get(name) === index && sources.has(name)) {
          const from = sources.get(name)!;
          const theirs = from === index ? undefined : folders.last(from, name);
          if (theirs === undefined) emit(archive, at);
          else emit(chain.archives[from]!, theirs);
        }
        continue;
      }
      if (needed.has(name)) spool.set(name, h.size(at));
      if (!written(name)) continue;
      if (typeflag === '1') {
        const target = normaliseDigestName(h.linkname(at));
        if (inStream.has(target)) emit(archive, at);
        else {
          const kept = spool.get(target);
          if (kept === undefined) {
            const stored = h.storedName(at, name);
            const cause = `the hard link ${stored} points at ${target}, which this archive does not hold before it`;
            throw new BrokenChainError(`${describeLink(archive)} could not be read to the end (${cause}); check the file and try again`);
          }
          emit(archive, at, kept);
        }
        continue;
      }
      emit(archive, at);
      if (typeflag === '0' || typeflag === '7') inStream.add(name);
    }
  });
  const own = chain.archives[chain.archives.length - 1]!;
  return { ...counter.finish(), gzipped: false, sha256: own.sha256 ?? '', archiveBytes };
}

/** For an archive, the position of the last folder header of each name, as openChain's folderHeaders keeps it. */
class FolderIndex {
  private readonly built = new Map<number, Map<string, number>>();

  constructor(private readonly archives: readonly MergeArchive[]) {}

  last(index: number, name: string): number | undefined {
    let positions = this.built.get(index);
    if (!positions) {
      positions = new Map();
      const archive = this.archives[index]!;
      // Only an incremental archive's folders stand in for older ones (openChain keeps no others).
      if (archive.manifest) {
        const { headers, members } = archive;
        for (let at = 0; at < headers.length; at++) if (headers.typeflag(at) === '5') positions.set(members[at]!, at);
      }
      this.built.set(index, positions);
    }
    return positions.get(name);
  }
}
