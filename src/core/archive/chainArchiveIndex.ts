import { stat } from 'node:fs/promises';
import type { HistoryChainLink } from '../history/historyChain';
import { mergedChainStream } from '../incremental/mergedChainStream';
import { openChain } from '../incremental/openChain';
import { listEntries, type ArchiveIndex, type IndexedChainArchive } from './archiveIndex';
import { scanTar } from './archiveScan';
import { normaliseEntryPath } from './entrySafety';

/**
 * The listing of an incremental backup: the volume at that backup (deletions applied, the newest version of each
 * path, manifests left out), read from its chain merged into one tar, each entry marked with the archive that holds
 * it. The chain is checked first (checksums, manifests naming each other); a broken one names the backup to blame.
 */
export async function buildChainIndex(links: readonly HistoryChainLink[], options: { signal?: AbortSignal } = {}): Promise<ArchiveIndex> {
  const opened = await openChain(links, options.signal);
  // Stamped after the checks: the merged read below fails if an archive changes from here on (its checksum).
  const chain = await Promise.all(links.map(chainArchiveStamp));
  const holders = new Map<string, number>();
  for (const [name, index] of opened.tree.sources) holders.set(browsePath(name), index);
  const own = links[links.length - 1]!;
  const label = `the chain of backup #${own.id}`;
  const merged = mergedChainStream(opened, options.signal ? { signal: options.signal } : {});
  const index = await listEntries((visit) => scanTar(merged, label, visit, options), (path) => holders.get(path));
  return { ...index, chain };
}

/** Whether a saved chain listing was made from these very archives (same rows, files, sizes and mtimes). */
export async function chainUnchanged(saved: readonly IndexedChainArchive[], links: readonly HistoryChainLink[]): Promise<boolean> {
  if (saved.length !== links.length) return false;
  for (const [i, link] of links.entries()) {
    const now = await chainArchiveStamp(link).catch(() => undefined);
    const then = saved[i]!;
    if (!now || now.id !== then.id || now.path !== then.path || now.size !== then.size || now.mtimeMs !== then.mtimeMs) return false;
  }
  return true;
}

/** The archive file that holds a path of a listing: for a chain, the one its entry came from. */
export function archiveHolding(index: ArchiveIndex, ownArchive: string): (path: string) => string {
  const chain = index.chain;
  if (!chain) return () => ownArchive;
  const sources = new Map(index.entries.map((e) => [e.path, e.source ?? chain.length - 1]));
  return (path) => chain[sources.get(normaliseEntryPath(path)) ?? chain.length - 1]!.path;
}

async function chainArchiveStamp(link: HistoryChainLink): Promise<IndexedChainArchive> {
  const file = await stat(link.path);
  return { id: link.id, path: link.path, size: file.size, mtimeMs: Math.trunc(file.mtimeMs) };
}

/** A chain member's name (its bytes as latin1) as the archive scan names the entry: UTF-8, no `./`. */
function browsePath(name: string): string {
  return normaliseEntryPath(Buffer.from(name, 'latin1').toString('utf8'));
}
