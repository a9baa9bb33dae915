import type { Database } from 'sql.js';

/**
 * The volume listing a backup took in its helper pod, kept as the base of the next incremental backup.
 * `listing` is opaque here (podListingCodec); `listing_sha256` is what the next manifest names.
 */
export interface StoredPodListing {
  readonly historyId: number;
  readonly recordedAt: string;
  readonly entryCount: number;
  readonly sha256: string;
  readonly listing: Uint8Array;
  /** The include/exclude set the listing was taken with (JSON); null on listings recorded without one. */
  readonly selection?: string | null;
}

export function selectPodListing(db: Database, historyId: number): StoredPodListing | undefined {
  const statement = db.prepare('SELECT history_id, recorded_at, entry_count, listing_sha256, listing, selection FROM pod_listings WHERE history_id = ?', [historyId]);
  try {
    if (!statement.step()) return undefined;
    const row = statement.getAsObject();
    return {
      historyId: Number(row.history_id),
      recordedAt: String(row.recorded_at),
      entryCount: Number(row.entry_count),
      sha256: String(row.listing_sha256),
      listing: row.listing instanceof Uint8Array ? row.listing : new Uint8Array(),
      selection: row.selection === null || row.selection === undefined ? null : String(row.selection),
    };
  } finally {
    statement.free();
  }
}

export function replacePodListing(db: Database, stored: StoredPodListing): void {
  db.run('INSERT OR REPLACE INTO pod_listings (history_id, recorded_at, entry_count, listing_sha256, listing, selection) VALUES (?, ?, ?, ?, ?, ?)', [
    stored.historyId,
    stored.recordedAt,
    stored.entryCount,
    stored.sha256,
    stored.listing,
    stored.selection ?? null,
  ]);
}
