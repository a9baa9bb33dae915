import { ArchiveEntryNotAFileError, ArchiveEntryNotFoundError, ArchiveEntryTooLargeError } from './archiveErrors';
import { scanArchive, type ScannedEntry } from './archiveScan';
import { normaliseEntryPath, unsafeEntryReason } from './entrySafety';

export interface ReadArchiveFileOptions {
  readonly signal?: AbortSignal;
  /** Refuse entries larger than this before reading them; defaults to 64 MiB. */
  readonly maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The content of one file in the archive. Reads the gzip stream only up to that entry; a hard link
 * is followed to the earlier entry that holds its data.
 */
export async function readArchiveFile(archivePath: string, entryPath: string, options: ReadArchiveFileOptions = {}): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let wanted = normaliseEntryPath(entryPath);
  for (let hops = 0; hops < 2; hops++) {
    let found: { data?: Buffer; linkTo?: string } | undefined;
    await scanArchive(
      archivePath,
      async (entry) => {
        if (entry.path !== wanted || unsafeEntryReason({ path: entry.rawPath, type: entry.type, linkname: entry.linkname }) !== undefined) {
          return;
        }
        if (entry.type === 'link') {
          found = { linkTo: normaliseEntryPath(entry.linkname ?? '') };
          return false;
        }
        if (entry.type !== 'file' && entry.type !== 'contiguous-file') {
          throw new ArchiveEntryNotAFileError(entry.path, entry.type);
        }
        if (entry.size > maxBytes) throw new ArchiveEntryTooLargeError(entry.path, entry.size, maxBytes);
        found = { data: await readBody(entry) };
        return false;
      },
      { signal: options.signal },
    );
    if (found === undefined) throw new ArchiveEntryNotFoundError(archivePath, entryPath);
    if (found.data !== undefined) return found.data;
    wanted = found.linkTo!;
  }
  throw new ArchiveEntryNotFoundError(archivePath, entryPath);
}

async function readBody(entry: ScannedEntry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry.body) chunks.push(chunk);
  return Buffer.concat(chunks, entry.size);
}
