import { stat } from 'node:fs/promises';
import type { HistoryRecord } from '../history/historyRecord';
import type { HistoryStore } from '../history/historyStore';
import { buildArchiveIndex, type ArchiveIndex } from './archiveIndex';
import { decodeArchiveIndex, encodeArchiveIndex } from './archiveIndexCodec';

export interface OpenedArchiveIndex {
  readonly index: ArchiveIndex;
  readonly archivePath: string;
  /** `cache` when the saved listing still matched the archive's size and mtime. */
  readonly source: 'cache' | 'built';
  /** Set when a fresh listing could not be saved (e.g. a read-only history); browsing still works. */
  readonly saveError?: Error;
}

/** The backup has no archive to open: never written, or deleted by retention. */
export class NoArchiveError extends Error {
  override readonly name = 'NoArchiveError';
  constructor(readonly historyId: number, reason: string) {
    super(`Backup #${historyId} has no archive: ${reason}`);
  }
}

/**
 * The listing of a backup's archive: the saved one when the file is unchanged since it was made,
 * else read from the archive and saved for next time.
 */
export async function openArchiveIndex(
  history: HistoryStore,
  record: HistoryRecord,
  options: { signal?: AbortSignal } = {},
): Promise<OpenedArchiveIndex> {
  const archivePath = record.backupPath;
  if (archivePath === null) throw new NoArchiveError(record.id, 'none was written');
  if (record.prunedAt !== null) throw new NoArchiveError(record.id, `it was deleted by retention at ${record.prunedAt}`);
  const file = await stat(archivePath);
  const mtimeMs = Math.trunc(file.mtimeMs);

  const saved = await history.loadArchiveIndex(record.id);
  if (saved !== undefined && saved.archiveSize === file.size && saved.archiveMtimeMs === mtimeMs) {
    try {
      return { index: decodeArchiveIndex(saved.entries), archivePath, source: 'cache' };
    } catch {
      // A listing saved by a newer format or damaged: read the archive again and overwrite it.
    }
  }

  const index = await buildArchiveIndex(archivePath, options);
  try {
    await history.saveArchiveIndex({
      historyId: record.id,
      archiveSize: file.size,
      archiveMtimeMs: mtimeMs,
      archiveSha256: record.checksum,
      builtAt: new Date().toISOString(),
      entryCount: index.entries.length,
      entries: encodeArchiveIndex(index),
    });
  } catch (error) {
    return { index, archivePath, source: 'built', saveError: error as Error };
  }
  return { index, archivePath, source: 'built' };
}
