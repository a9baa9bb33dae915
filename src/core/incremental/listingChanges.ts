import type { FileTime, ListedEntry, PodListing } from './podListing';

/** Why an entry counts as changed; `racy` when only the base listing's timing leaves its content in doubt. */
export type ChangeReason = 'size' | 'mtime' | 'ctime' | 'mode' | 'owner' | 'link' | 'racy';

export interface ChangedEntry {
  readonly entry: ListedEntry;
  readonly reasons: readonly ChangeReason[];
}

export interface ListingChanges {
  readonly unchanged: number;
  readonly changed: readonly ChangedEntry[];
  readonly added: readonly ListedEntry[];
  /** Present in both listings with another type (a file that became a folder, ...). */
  readonly typeChanged: readonly ListedEntry[];
  /** Names of the base listing that are gone, in the base listing's order. */
  readonly deleted: readonly string[];
}

/**
 * Linux stamps files from a coarse clock that ticks every 1 to 10 ms, even where the file system keeps
 * nanoseconds; a listing without any sub-second time comes from a file system (or stat) keeping seconds.
 */
const COARSE_CLOCK_NS = 10_000_000;
const SECOND_NS = 1_000_000_000;

/**
 * The timestamp resolution of the volume's file system as its listing shows it: 1 s when no entry's time
 * has a fraction, else the kernel's clock tick. The start time is left out: it is stamped on the helper's
 * own temporary folder, whose file system may keep nanoseconds where the volume's keeps seconds.
 */
export function timeResolutionNs(listing: PodListing): number {
  return listing.entries.some((e) => e.mtime.ns !== 0 || e.ctime.ns !== 0) ? COARSE_CLOCK_NS : SECOND_NS;
}

export interface CompareOptions {
  /**
   * Whether ctime tells a change (default true): both listings read the volume itself. A volume read through a
   * snapshot's temporary claim may be a copy made file by file (drivers that keep snapshots as archives or
   * folders), whose ctimes are the copy's and whose inode numbers are new or reused by chance: there only size,
   * mtime, mode, owner and link target tell a change, as rsync tells it.
   */
  readonly ctime?: boolean;
}

/**
 * Compares a new listing with the base one (the previous backup's). Fifos, sockets and devices are left
 * out of both, as backups leave them out. A regular file unchanged by every field is still treated as
 * changed when the base saw it written within one clock tick of its own start (git's racy-git rule): a
 * write later in that same tick would leave size and times as they were.
 */
export function compareListings(base: PodListing, next: PodListing, options: CompareOptions = {}): ListingChanges {
  const remaining = new Map<string, ListedEntry>();
  for (const e of base.entries) if (e.type !== 'other') remaining.set(e.name, e);
  const ctime = options.ctime ?? true;
  const racyFrom = minus(base.startedAt, timeResolutionNs(base));
  const changed: ChangedEntry[] = [];
  const added: ListedEntry[] = [];
  const typeChanged: ListedEntry[] = [];
  let unchanged = 0;
  for (const entry of next.entries) {
    if (entry.type === 'other') continue;
    const before = remaining.get(entry.name);
    if (before === undefined) {
      added.push(entry);
      continue;
    }
    remaining.delete(entry.name);
    if (before.type !== entry.type) {
      typeChanged.push(entry);
      continue;
    }
    const reasons = differences(before, entry, ctime);
    if (reasons.length === 0 && entry.type === 'file' && (atOrAfter(before.mtime, racyFrom) || (ctime && atOrAfter(before.ctime, racyFrom)))) reasons.push('racy');
    if (reasons.length) changed.push({ entry, reasons });
    else unchanged++;
  }
  return { unchanged, changed, added, typeChanged, deleted: [...remaining.keys()] };
}

function differences(a: ListedEntry, b: ListedEntry, ctime: boolean): ChangeReason[] {
  const reasons: ChangeReason[] = [];
  // A folder's size is its own bookkeeping; what it holds is compared entry by entry.
  if (a.type !== 'directory' && a.size !== b.size) reasons.push('size');
  if (!sameTime(a.mtime, b.mtime)) reasons.push('mtime');
  if (ctime && !sameTime(a.ctime, b.ctime)) reasons.push('ctime');
  if (a.mode !== b.mode) reasons.push('mode');
  if (a.uid !== b.uid || a.gid !== b.gid) reasons.push('owner');
  if (a.linkname !== b.linkname) reasons.push('link');
  return reasons;
}

function sameTime(a: FileTime, b: FileTime): boolean {
  return a.s === b.s && a.ns === b.ns;
}

function atOrAfter(t: FileTime, from: FileTime): boolean {
  return t.s > from.s || (t.s === from.s && t.ns >= from.ns);
}

function minus(t: FileTime, ns: number): FileTime {
  const total = t.ns - ns;
  const borrow = Math.floor(total / SECOND_NS);
  return { s: t.s + borrow, ns: total - borrow * SECOND_NS };
}
