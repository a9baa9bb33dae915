import type { HistoryStore } from '../history/historyStore';
import type { ArchiveDigests } from './archiveDigests';
import { decodeArchiveDigests, encodeArchiveDigests } from './archiveDigestsCodec';

/** Keeps a backup's listing on its history row, for later restore drills. */
export async function recordBackupDigests(history: HistoryStore, historyId: number, digests: ArchiveDigests, at = new Date()): Promise<void> {
  await history.saveBackupDigests({ historyId, recordedAt: at.toISOString(), entryCount: digests.entries.length, listing: encodeArchiveDigests(digests) });
}

/** The listing recorded when the backup was made; undefined for rows from before listings were recorded. */
export async function loadBackupDigests(history: HistoryStore, historyId: number): Promise<(ArchiveDigests & { recordedAt: string }) | undefined> {
  const stored = await history.loadBackupDigests(historyId);
  return stored && { ...decodeArchiveDigests(stored.listing), recordedAt: stored.recordedAt };
}
