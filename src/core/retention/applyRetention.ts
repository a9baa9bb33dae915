import { stat, unlink } from 'node:fs/promises';
import { errnoCode } from '../history/errnoCode';
import type { HistoryStore } from '../history/historyStore';
import type { RetentionPlan } from './planRetention';

export interface PrunedArchive {
  readonly id: number;
  readonly archivePath: string;
  /** Bytes freed; 0 when the file was already gone (the row is marked pruned all the same). */
  readonly freedBytes: number;
}

export interface RetentionResult {
  readonly pruned: readonly PrunedArchive[];
  readonly failed: readonly { readonly id: number; readonly archivePath: string; readonly error: string }[];
}

/**
 * Deletes the planned archives and marks their rows pruned; the rows stay as history. The file goes
 * first: a crash in between leaves a row whose archive verifies as missing, never an orphan file.
 */
export async function applyRetention(history: HistoryStore, plan: RetentionPlan, options: { signal?: AbortSignal; now?: () => Date } = {}): Promise<RetentionResult> {
  const now = options.now ?? (() => new Date());
  const pruned: PrunedArchive[] = [];
  const failed: { id: number; archivePath: string; error: string }[] = [];
  for (const record of plan.prune) {
    options.signal?.throwIfAborted();
    const archivePath = record.backupPath!;
    try {
      let freedBytes = 0;
      try {
        freedBytes = (await stat(archivePath)).size;
        await unlink(archivePath);
      } catch (error) {
        if (errnoCode(error) !== 'ENOENT') throw error;
      }
      await history.markPruned(record.id, now());
      pruned.push({ id: record.id, archivePath, freedBytes });
    } catch (error) {
      failed.push({ id: record.id, archivePath, error: (error as Error).message });
    }
  }
  return { pruned, failed };
}
