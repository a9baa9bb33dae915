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
  const planned = new Set(plan.prune.map((r) => r.id));
  for (const record of plan.prune) {
    options.signal?.throwIfAborted();
    const archivePath = record.backupPath!;
    try {
      // The plan may be minutes old, or cut down by the user: a backup made since, or left out, may build on this one.
      const dependent = await keptDependent(history, record.id, planned);
      if (dependent !== undefined) {
        const error = `not deleted: backup #${dependent} is kept and restores through it (an incremental backup needs its whole chain)`;
        failed.push({ id: record.id, archivePath, error });
        planned.delete(record.id);
        continue;
      }
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
      // Its archive stays, so its bases must too (a plan lists each volume newest first, so they come later).
      planned.delete(record.id);
    }
  }
  return { pruned, failed };
}

/**
 * A backup outside the plan whose chain goes through `id` (running, or with an archive), or undefined.
 * Follows `baseId` from each incremental backup, as far as the history's incremental rows reach.
 */
async function keptDependent(history: HistoryStore, id: number, planned: ReadonlySet<number>): Promise<number | undefined> {
  const incrementals = await history.incrementalBackups();
  const baseOf = new Map(incrementals.map((r) => [r.id, r.baseId]));
  for (const record of incrementals) {
    if (planned.has(record.id) || (record.backupPath === null && record.status !== 'running')) continue;
    const seen = new Set<number>();
    for (let base = record.baseId ?? undefined; base !== undefined && !seen.has(base); base = baseOf.get(base) ?? undefined) {
      if (base === id) return record.id;
      seen.add(base);
    }
  }
  return undefined;
}
