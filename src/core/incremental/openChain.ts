import { normaliseDigestName } from '../archive/archiveDigests';
import { openArchiveTar } from './archiveTarReader';
import { BrokenChainError, resolveChainTree, type ChainArchive, type ChainTree } from './chainTree';
import { MANIFEST_PATH, parseManifest, pathBytes, type IncrementalManifest } from './incrementalManifest';
import { MemberHeaders } from './memberHeaders';
import { rawTarEntries } from './rawTarEntries';
import { headerBlocks } from './rawTarHeaders';

/** An archive of a chain as the history knows it: its file, history row and recorded checksum. */
export interface ChainLink {
  readonly path: string;
  readonly id?: number;
  readonly sha256?: string;
}

/** A link of a chain read for merging: what resolveChainTree needs, plus what the merge must know in advance. */
export interface MergeArchive extends ChainArchive {
  /** Hard link member → the member it links to (normalised names). */
  readonly hardLinks: ReadonlyMap<string, string>;
  /** Header blocks of the folders of an incremental archive, written where the folder first appears. */
  readonly folderHeaders: ReadonlyMap<string, Buffer>;
  /** Each member's header facts, in the order of `members`: what a restore counts without merging again. */
  readonly headers: MemberHeaders;
}

export interface OpenedChain {
  readonly archives: readonly MergeArchive[];
  readonly tree: ChainTree;
  /** For each path of the final tree, the oldest archive from which it stays in the tree without a break. */
  readonly since: ReadonlyMap<string, number>;
}

/** The largest manifest read: a manifest lists deleted paths, so it grows with them, but not without bound. */
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

/** How a backup is named in messages: by its history row when known, always with its file. */
export function describeLink(link: ChainLink): string {
  return link.id !== undefined ? `backup ${link.id} (${link.path})` : link.path;
}

/**
 * Reads each archive of a chain once (checksum, manifest, members, header facts, hard links, folder headers) and checks
 * the links between them: a missing, damaged or replaced archive is refused with the backup named.
 */
export async function openChain(links: readonly ChainLink[], signal?: AbortSignal): Promise<OpenedChain> {
  const archives: MergeArchive[] = [];
  for (const link of links) {
    signal?.throwIfAborted();
    archives.push(await readMergeArchive(link, signal));
  }
  const tree = resolveChainTree(archives);
  return { archives, tree, since: survivingSince(archives) };
}

async function readMergeArchive(link: ChainLink, signal?: AbortSignal): Promise<MergeArchive> {
  const label = describeLink(link);
  let tar;
  try {
    tar = await openArchiveTar(link.path);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new BrokenChainError(
      missing
        ? `${label} is missing; every archive of a chain is needed to restore it: put the file back, or use a later full backup`
        : `${label} cannot be read (${(error as Error).message})`,
    );
  }
  let manifest: IncrementalManifest | undefined;
  const members: string[] = [];
  const hardLinks = new Map<string, string>();
  const folderHeaders = new Map<string, Buffer>();
  const headers = new MemberHeaders();
  try {
    let first = true;
    for await (const { entry, data } of rawTarEntries(tar.reader)) {
      signal?.throwIfAborted();
      const name = normaliseDigestName(entry.name);
      if (first && name === MANIFEST_PATH && entry.typeflag === '0') {
        if (entry.size > MAX_MANIFEST_BYTES) throw new Error(`its manifest is ${entry.size} bytes, more than a manifest can be`);
        const chunks: Buffer[] = [];
        for await (const chunk of data) chunks.push(chunk);
        manifest = parseManifest(Buffer.concat(chunks).toString('utf8'));
      } else {
        members.push(name);
        headers.add(entry, name);
        if (entry.typeflag === '1') hardLinks.set(name, normaliseDigestName(entry.linkname));
        if (entry.typeflag === '5' && manifest) folderHeaders.set(name, headerBlocks(entry));
      }
      first = false;
    }
    await tar.reader.drain();
  } catch (error) {
    if (error instanceof BrokenChainError || signal?.aborted) throw error;
    throw new BrokenChainError(`${label} is damaged (${(error as Error).message}); a chain cannot be restored through it`);
  } finally {
    tar.close();
  }
  const sha256 = tar.sha256();
  if (link.sha256 !== undefined && link.sha256 !== sha256) {
    throw new BrokenChainError(
      `${label} does not match the checksum recorded when it was made (sha256 ${link.sha256.slice(0, 12)}..., the file has ` +
        `${sha256.slice(0, 12)}...); it was changed or replaced: find that backup's original archive`,
    );
  }
  const known = { ...(link.id !== undefined ? { id: link.id } : {}), ...(manifest ? { manifest } : {}) };
  return { path: link.path, sha256, members, hardLinks, folderHeaders, headers, ...known };
}

/**
 * Replays the chain as resolveChainTree does (removals take what a folder holds) but keeps, for each path,
 * the archive from which it has been in the tree ever since.
 */
function survivingSince(chain: readonly ChainArchive[]): Map<string, number> {
  const since = new Map<string, number>();
  chain.forEach((archive, index) => {
    const removals = new Set((archive.manifest?.deleted ?? []).map((p) => normaliseDigestName(pathBytes(p))));
    if (removals.size) {
      for (const path of since.keys()) if (removals.has(path) || hasAncestorIn(path, removals)) since.delete(path);
    }
    for (const member of archive.members) if (!since.has(member)) since.set(member, index);
  });
  return since;
}

function hasAncestorIn(path: string, set: ReadonlySet<string>): boolean {
  for (let cut = path.lastIndexOf('/'); cut > 0; cut = path.lastIndexOf('/', cut - 1)) {
    if (set.has(path.slice(0, cut))) return true;
  }
  return false;
}
