import { scanArchive, type EntryVisitor, type ScanResult } from './archiveScan';
import { unsafeEntryReason } from './entrySafety';

/** One entry of an archive listing, without its content. */
export interface ArchiveIndexEntry {
  /** Without `./` or trailing `/`, e.g. `data/app.db`. */
  readonly path: string;
  readonly type: string;
  readonly size: number;
  readonly mode: number;
  readonly mtimeMs: number;
  readonly linkname?: string;
  /** Where the entry's data starts in the uncompressed tar stream it was listed from. */
  readonly dataOffset: number;
  /** For the listing of an incremental backup: the position in `chain` of the archive that holds this entry. */
  readonly source?: number;
}

/** One archive of an incremental backup's chain as it was when the listing was made, to notice a changed one. */
export interface IndexedChainArchive {
  readonly id: number;
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface RefusedEntry {
  /** As stored in the archive, since a normalised form of `../x` would hide the problem. */
  readonly path: string;
  readonly reason: string;
}

export interface ArchiveIndex {
  /** Safe entries in archive order; the root folder (`./`) itself is left out. */
  readonly entries: readonly ArchiveIndexEntry[];
  readonly totals: { readonly files: number; readonly bytes: number };
  /** Entries that are never shown or extracted, with why (see unsafeEntryReason). */
  readonly unsafe: readonly RefusedEntry[];
  /** Set for an incremental backup: its chain, oldest first; the listing is the volume at the newest one. */
  readonly chain?: readonly IndexedChainArchive[];
}

/** Reads the whole archive once and lists it. */
export async function buildArchiveIndex(archivePath: string, options: { signal?: AbortSignal } = {}): Promise<ArchiveIndex> {
  return listEntries((visit) => scanArchive(archivePath, visit, options));
}

/** Lists what a scan (of a file, or of a tar stream) meets; `sourceOf` tells which archive holds an entry. */
export async function listEntries(
  scan: (visit: EntryVisitor) => Promise<ScanResult>,
  sourceOf?: (path: string) => number | undefined,
): Promise<ArchiveIndex> {
  const entries: ArchiveIndexEntry[] = [];
  const unsafe: RefusedEntry[] = [];
  let files = 0;
  let bytes = 0;
  await scan((entry) => {
    const reason = unsafeEntryReason({ path: entry.rawPath, type: entry.type, linkname: entry.linkname });
    if (reason !== undefined) {
      unsafe.push({ path: entry.rawPath, reason });
      return;
    }
    if (entry.path === '') return;
    const source = sourceOf?.(entry.path);
    entries.push({
      path: entry.path,
      type: entry.type,
      size: entry.size,
      mode: entry.mode,
      mtimeMs: entry.mtimeMs,
      ...(entry.linkname !== undefined ? { linkname: entry.linkname } : {}),
      dataOffset: entry.dataOffset,
      ...(source !== undefined ? { source } : {}),
    });
    if (entry.type === 'file' || entry.type === 'contiguous-file') {
      files++;
      bytes += entry.size;
    }
  });
  return { entries, totals: { files, bytes }, unsafe };
}
