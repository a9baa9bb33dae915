/** Reading the SQLite header field that tells two versions of one file apart. */

export const SQLITE_HEADER_BYTES = 100;

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
