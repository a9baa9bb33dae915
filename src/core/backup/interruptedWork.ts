import type { HistoryRecord } from '../history/historyRecord';
import type { HistoryStore } from '../history/historyStore';
import { removeAbandonedPartials } from './abandonedPartials';

export interface RecoveredWork {
  /** Partial archives (and their owner files) of backups whose process ended. */
  readonly partialsRemoved: readonly string[];
  /** History rows that were `running` under a process that ended, now `interrupted`. */
  readonly rowsInterrupted: readonly HistoryRecord[];
  /** What could not be cleaned up, in words; the run goes on regardless. */
  readonly problems: readonly string[];
}

/**
 * Cleans up after backups whose process was killed or crashed: their partial archives and their
 * rows left `running`. Runs at the start of every backup batch, from VS Code and the command line
 * alike; anything still owned by a living process, here or possibly on another host, is left alone.
 * Never throws: a folder or history that cannot be cleaned now must not stop the backup.
 */
export async function recoverInterruptedWork(backupDir: string, history: HistoryStore | undefined): Promise<RecoveredWork> {
  const problems: string[] = [];
  const partials = await removeAbandonedPartials(backupDir).catch((e: unknown) => {
    problems.push(`could not remove unfinished archives under ${backupDir}: ${(e as Error).message}`);
    return { removed: [] };
  });
  const rows = history
    ? await history.markInterruptedRows().catch((e: unknown) => {
        problems.push(`could not mark interrupted history rows: ${(e as Error).message}`);
        return [];
      })
    : [];
  return { partialsRemoved: partials.removed, rowsInterrupted: rows, problems };
}
