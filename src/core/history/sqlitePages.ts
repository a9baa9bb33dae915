/** Reading the few header fields of a SQLite file that saving it page by page depends on. */

export const SQLITE_HEADER_BYTES = 100;

/** Page size in bytes from the header (offset 16, big-endian; 1 means 65536), or undefined. */
export function sqlitePageSize(bytes: Uint8Array): number | undefined {
  if (bytes.length < SQLITE_HEADER_BYTES) {
    return undefined;
  }
  const raw = (bytes[16]! << 8) | bytes[17]!;
  const size = raw === 1 ? 65_536 : raw;
  // A power of two between 512 and 65536, as the file format requires.
  return size >= 512 && size <= 65_536 && (size & (size - 1)) === 0 ? size : undefined;
}

/**
 * The file change counter (offset 24), which SQLite increments on every committed write. It
 * tells two versions of a file apart even when their size and timestamps are equal.
 */
export function sqliteChangeCounter(bytes: Uint8Array): number | undefined {
  if (bytes.length < SQLITE_HEADER_BYTES) {
    return undefined;
  }
  return ((bytes[24]! << 24) >>> 0) + (bytes[25]! << 16) + (bytes[26]! << 8) + bytes[27]!;
}

/** Compared in blocks this large first, so unchanged stretches cost one comparison each. */
const BLOCK_BYTES = 256 * 1024;

/**
 * Indexes of the pages that differ between two images of one database, including pages that
 * only exist in `next`. Both must have the same page size.
 */
export function changedPages(previous: Uint8Array, next: Uint8Array, pageSize: number): number[] {
  const before = Buffer.from(previous.buffer, previous.byteOffset, previous.byteLength);
  const after = Buffer.from(next.buffer, next.byteOffset, next.byteLength);
  const block = Math.max(pageSize, BLOCK_BYTES - (BLOCK_BYTES % pageSize));
  const pages: number[] = [];
  for (let blockStart = 0; blockStart < after.length; blockStart += block) {
    const blockEnd = Math.min(blockStart + block, after.length);
    if (blockEnd <= before.length && before.compare(after, blockStart, blockEnd, blockStart, blockEnd) === 0) {
      continue;
    }
    for (let start = blockStart; start < blockEnd; start += pageSize) {
      const end = Math.min(start + pageSize, blockEnd);
      if (end > before.length || before.compare(after, start, end, start, end) !== 0) {
        pages.push(start / pageSize);
      }
    }
  }
  return pages;
}
