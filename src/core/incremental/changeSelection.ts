import type { ListingChanges } from './listingChanges';
import type { ListedEntry, PodListing } from './podListing';

export interface ChangeSelection {
  /** Names (latin1 bytes, `.` for the root) the incremental archive carries, in listing order. */
  readonly names: readonly string[];
  /** Regular-file bytes those names hold, each hard-linked file counted once. */
  readonly sentBytes: number;
  /**
   * What to remove before extracting the archive: deleted names and names whose type changed, without
   * those inside a removed folder (removing the folder removes them).
   */
  readonly removed: readonly string[];
}

/**
 * The entries an incremental archive must carry: changed, new and type-changed ones, plus every other
 * name of a hard-linked file among them, so tar stores the link rather than a second copy.
 */
export function selectChanges(changes: ListingChanges, next: PodListing): ChangeSelection {
  const picked = new Set<string>();
  for (const c of changes.changed) picked.add(c.entry.name);
  for (const e of changes.added) picked.add(e.name);
  for (const e of changes.typeChanged) picked.add(e.name);
  const linkedInodes = new Set<number>();
  for (const e of next.entries) if (e.type === 'file' && e.links > 1 && picked.has(e.name)) linkedInodes.add(e.inode);
  const names: string[] = [];
  const countedInodes = new Set<number>();
  let sentBytes = 0;
  for (const e of next.entries) {
    if (e.type === 'other') continue;
    if (!picked.has(e.name) && !(e.type === 'file' && e.links > 1 && linkedInodes.has(e.inode))) continue;
    names.push(e.name);
    if (e.type === 'file' && !(e.links > 1 && countedInodes.has(e.inode))) {
      sentBytes += e.size;
      if (e.links > 1) countedInodes.add(e.inode);
    }
  }
  return { names, sentBytes, removed: topmost([...changes.deleted, ...changes.typeChanged.map((e: ListedEntry) => e.name)]) };
}

/** The names none of whose parent folders is in the list, in the order given. */
export function topmost(names: readonly string[]): string[] {
  const all = new Set(names);
  return names.filter((name) => {
    for (let cut = name.lastIndexOf('/'); cut > 0; cut = name.lastIndexOf('/', cut - 1)) {
      if (all.has(name.slice(0, cut))) return false;
    }
    return true;
  });
}
