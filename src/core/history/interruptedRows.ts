import type { Database } from 'sql.js';
import { describeOwner, ownerLiveness, parseProcessOwner, type ProcessOwner } from '../liveness/processOwner';
import type { HistoryOperation } from './historyRecord';

/** A `running` row whose process has ended, as found by a lock-free read. */
export interface AbandonedRow {
  readonly id: number;
  /** The owner text as stored, compared again under the lock so a row is never marked twice. */
  readonly ownerText: string;
  readonly owner: ProcessOwner;
  readonly operation: HistoryOperation;
  readonly stage: string | null;
}

/** `running` rows whose owning process provably ended. Rows without an owner are never judged. */
export function findAbandonedRows(db: Database): AbandonedRow[] {
  const result = db.exec("SELECT id, owner, operation, stage FROM backup_history WHERE status = 'running' AND owner IS NOT NULL");
  const rows: AbandonedRow[] = [];
  for (const [id, ownerText, operation, stage] of result[0]?.values ?? []) {
    const owner = parseProcessOwner(String(ownerText));
    if (owner !== undefined && ownerLiveness(owner) === 'gone') {
      rows.push({
        id: Number(id),
        ownerText: String(ownerText),
        owner,
        operation: (operation ?? 'backup') as HistoryOperation,
        stage: stage === null ? null : String(stage),
      });
    }
  }
  return rows;
}

/** Marks the rows `interrupted`, keeping the stage they reached; returns the ids it changed. */
export function markRowsInterrupted(db: Database, rows: readonly AbandonedRow[]): number[] {
  const changed: number[] = [];
  for (const row of rows) {
    db.run(
      `UPDATE backup_history SET status = 'interrupted', message = ?, next_step = ?
       WHERE id = ? AND status = 'running' AND owner = ?`,
      [interruptedMessage(row), interruptedNextStep(row.operation), row.id, row.ownerText],
    );
    if (db.getRowsModified() > 0) {
      changed.push(row.id);
    }
  }
  return changed;
}

export function interruptedMessage(row: Pick<AbandonedRow, 'owner' | 'stage'>): string {
  const where = row.stage === null ? 'before its first stage' : `at the ${row.stage} stage`;
  return `Interrupted ${where}: the process that ran it (${describeOwner(row.owner)}) ended before it finished.`;
}

function interruptedNextStep(operation: HistoryOperation): string {
  return operation === 'restore'
    ? 'The volume may hold part of the archive: check it, then run the restore again.'
    : 'Run the backup again; its unfinished archive was removed from the backup folder.';
}
