import type { Database } from 'sql.js';

/** The listing a backup recorded as its archive was received; `listing` is opaque here (archiveDigestsCodec). */
export interface StoredBackupDigests {
  readonly historyId: number;
  readonly recordedAt: string;
  readonly entryCount: number;
  readonly listing: Uint8Array;
}

export function selectBackupDigests(db: Database, historyId: number): StoredBackupDigests | undefined {
  const statement = db.prepare('SELECT history_id, recorded_at, entry_count, listing FROM backup_digests WHERE history_id = ?', [historyId]);
  try {
    if (!statement.step()) return undefined;
    const row = statement.getAsObject();
    return {
      historyId: Number(row.history_id),
      recordedAt: String(row.recorded_at),
      entryCount: Number(row.entry_count),
      listing: row.listing instanceof Uint8Array ? row.listing : new Uint8Array(),
    };
  } finally {
    statement.free();
  }
}

export function replaceBackupDigests(db: Database, digests: StoredBackupDigests): void {
  db.run('INSERT OR REPLACE INTO backup_digests (history_id, recorded_at, entry_count, listing) VALUES (?, ?, ?, ?)', [
    digests.historyId,
    digests.recordedAt,
    digests.entryCount,
    digests.listing,
  ]);
}
