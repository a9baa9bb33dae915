import type { Database, ParamsObject } from 'sql.js';

/** A saved archive listing; `entries` is opaque here (the archive module encodes it). */
export interface StoredArchiveIndex {
  readonly historyId: number;
  /** Size and mtime of the archive the listing was read from, to notice a replaced file. */
  readonly archiveSize: number;
  readonly archiveMtimeMs: number;
  readonly archiveSha256: string | null;
  readonly builtAt: string;
  readonly entryCount: number;
  readonly entries: Uint8Array;
}

/** A 50,000-entry listing takes a few hundred kilobytes; a handful of them keeps the file small. */
export const MAX_CACHED_ARCHIVE_INDEXES = 16;

const COLUMNS = 'history_id, archive_size, archive_mtime_ms, archive_sha256, built_at, entry_count, entries';

function storedIndexFromRow(row: ParamsObject): StoredArchiveIndex {
  return {
    historyId: Number(row.history_id),
    archiveSize: Number(row.archive_size),
    archiveMtimeMs: Number(row.archive_mtime_ms),
    archiveSha256: row.archive_sha256 === null || row.archive_sha256 === undefined ? null : String(row.archive_sha256),
    builtAt: String(row.built_at),
    entryCount: Number(row.entry_count),
    entries: row.entries instanceof Uint8Array ? row.entries : new Uint8Array(),
  };
}

export function selectArchiveIndex(db: Database, historyId: number): StoredArchiveIndex | undefined {
  const statement = db.prepare(`SELECT ${COLUMNS} FROM archive_index WHERE history_id = ?`, [historyId]);
  try {
    return statement.step() ? storedIndexFromRow(statement.getAsObject()) : undefined;
  } finally {
    statement.free();
  }
}

/** Saves a listing in place of an older one for the same row, keeping only the newest few. */
export function replaceArchiveIndex(db: Database, index: StoredArchiveIndex): void {
  db.run(`INSERT OR REPLACE INTO archive_index (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
    index.historyId,
    index.archiveSize,
    index.archiveMtimeMs,
    index.archiveSha256,
    index.builtAt,
    index.entryCount,
    index.entries,
  ]);
  db.run(
    `DELETE FROM archive_index WHERE history_id NOT IN
       (SELECT history_id FROM archive_index ORDER BY built_at DESC, history_id DESC LIMIT ?)`,
    [MAX_CACHED_ARCHIVE_INDEXES],
  );
}
