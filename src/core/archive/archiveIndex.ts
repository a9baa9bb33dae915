import { scanArchive } from './archiveScan';
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
  /** Where the entry's data starts in the uncompressed tar stream. */
  readonly dataOffset: number;
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
}

/** Reads the whole archive once and lists it. */
export async function buildArchiveIndex(archivePath: string, options: { signal?: AbortSignal } = {}): Promise<ArchiveIndex> {
  const entries: ArchiveIndexEntry[] = [];
  const unsafe: RefusedEntry[] = [];
  let files = 0;
  let bytes = 0;
  await scanArchive(
    archivePath,
    (entry) => {
      const reason = unsafeEntryReason({ path: entry.rawPath, type: entry.type, linkname: entry.linkname });
      if (reason !== undefined) {
        unsafe.push({ path: entry.rawPath, reason });
        return;
      }
      if (entry.path === '') return;
      entries.push({
        path: entry.path,
        type: entry.type,
        size: entry.size,
        mode: entry.mode,
        mtimeMs: entry.mtimeMs,
        ...(entry.linkname !== undefined ? { linkname: entry.linkname } : {}),
        dataOffset: entry.dataOffset,
      });
      if (entry.type === 'file' || entry.type === 'contiguous-file') {
        files++;
        bytes += entry.size;
      }
    },
    options,
  );
  return { entries, totals: { files, bytes }, unsafe };
}
