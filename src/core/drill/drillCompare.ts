import { displayName, type DigestEntry } from '../archive/archiveDigests';
import type { RestoredEntry } from './drillListing';

export const DIFFERENCE_KINDS = ['missing', 'extra', 'type', 'size', 'content', 'mode', 'owner', 'link-target'] as const;
export type DifferenceKind = (typeof DIFFERENCE_KINDS)[number];

export interface DrillDifference {
  readonly kind: DifferenceKind;
  /** The name for people (see displayName). */
  readonly path: string;
  readonly expected?: string;
  readonly found?: string;
}

export interface DrillComparison {
  /** Reference entries looked at (the volume's root folder and lost+found are not). */
  readonly compared: number;
  /** The first MAX_LISTED_DIFFERENCES differences, in reference order, then the extra entries. */
  readonly differences: DrillDifference[];
  /** Every difference counted by kind, listed or not. */
  readonly counts: Partial<Record<DifferenceKind, number>>;
  readonly total: number;
  /** Entries whose owner was not compared: a non-root helper writes them as its own user. */
  readonly ownersNotCompared: number;
}

export const MAX_LISTED_DIFFERENCES = 50;

/** An entry as a restore must write it: a hard link becomes the file it names. */
type Expected = Pick<DigestEntry, 'name' | 'size' | 'mode' | 'uid' | 'gid' | 'linkname' | 'sha256'> & { type: RestoredEntry['type'] };

function expectedEntries(reference: readonly DigestEntry[]): Expected[] {
  // Every file first: a listing merged for an incremental backup is sorted by name, so a hard link may come before its file.
  const files = new Map<string, DigestEntry>(reference.filter((e) => e.type === 'file').map((e) => [e.name, e]));
  const expected: Expected[] = [];
  for (const e of reference) {
    if (e.name === '' || e.name === 'lost+found' || e.name.startsWith('lost+found/')) continue;
    if (e.type === 'link') {
      const target = files.get(e.linkname ?? '');
      expected.push({ ...e, type: 'file', size: target?.size ?? e.size, sha256: target?.sha256, linkname: undefined });
    } else {
      expected.push({ ...e, type: e.type === 'file' || e.type === 'directory' || e.type === 'symlink' ? e.type : 'other' });
    }
  }
  return expected;
}

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

class DifferenceList {
  readonly listed: DrillDifference[] = [];
  readonly counts: Partial<Record<DifferenceKind, number>> = {};
  total = 0;

  add(kind: DifferenceKind, name: string, expected?: string, found?: string): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    this.total++;
    if (this.listed.length < MAX_LISTED_DIFFERENCES) {
      this.listed.push({ kind, path: displayName(name), ...(expected !== undefined ? { expected } : {}), ...(found !== undefined ? { found } : {}) });
    }
  }
}

/**
 * Compares what the drill restored with the reference listing. `helperUid`: the non-root user the helper
 * wrote as; an entry it owns where the reference names another owner is counted, not reported.
 */
export function compareRestored(reference: readonly DigestEntry[], restored: readonly RestoredEntry[], options: { helperUid?: number } = {}): DrillComparison {
  const found = new Map(restored.map((e) => [e.name, e]));
  const seen = new Set<string>();
  const list = new DifferenceList();
  let ownersNotCompared = 0;
  const expected = expectedEntries(reference);
  for (const want of expected) {
    seen.add(want.name);
    const got = found.get(want.name);
    if (!got) {
      list.add('missing', want.name, want.type);
      continue;
    }
    if (got.type !== want.type) {
      list.add('type', want.name, want.type, got.type);
      continue;
    }
    if (want.type === 'file' && got.size !== want.size) list.add('size', want.name, String(want.size), String(got.size));
    else if (want.type === 'file' && got.sha256 !== want.sha256) list.add('content', want.name, want.sha256, got.sha256);
    if (want.type === 'symlink' && got.linkname !== want.linkname) list.add('link-target', want.name, displayName(want.linkname ?? ''), displayName(got.linkname ?? ''));
    // A symlink's own mode is always 0777 on Linux and cannot be set.
    if (want.type !== 'symlink' && got.mode !== want.mode) list.add('mode', want.name, octal(want.mode), octal(got.mode));
    if (got.uid !== want.uid || got.gid !== want.gid) {
      if (options.helperUid !== undefined && got.uid === options.helperUid) ownersNotCompared++;
      else list.add('owner', want.name, `${want.uid}:${want.gid}`, `${got.uid}:${got.gid}`);
    }
  }
  for (const got of restored) {
    if (!seen.has(got.name)) list.add('extra', got.name, undefined, got.type);
  }
  return { compared: expected.length, differences: list.listed, counts: list.counts, total: list.total, ownersNotCompared };
}

/**
 * The files whose data in the archive file differs from what the backup recorded as it was received
 * (the archive changed on disk since). Only entries present in both are compared: a damaged archive
 * may list only the entries before the damage.
 */
export function compareArchiveContent(recorded: readonly DigestEntry[], archive: readonly DigestEntry[]): DrillComparison {
  const inArchive = new Map(archive.map((e) => [e.name, e]));
  const list = new DifferenceList();
  let compared = 0;
  for (const want of recorded) {
    const got = inArchive.get(want.name);
    if (want.type !== 'file' || got?.type !== 'file') continue;
    compared++;
    if (got.size !== want.size) list.add('size', want.name, String(want.size), String(got.size));
    else if (got.sha256 !== want.sha256) list.add('content', want.name, want.sha256, got.sha256);
  }
  return { compared, differences: list.listed, counts: list.counts, total: list.total, ownersNotCompared: 0 };
}

/** `2 content, 1 missing` for a message. */
export function countsText(counts: Partial<Record<DifferenceKind, number>>): string {
  return DIFFERENCE_KINDS.filter((k) => counts[k]).map((k) => `${counts[k]} ${k}`).join(', ');
}
