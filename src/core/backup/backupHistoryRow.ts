import type { HistoryStore } from '../history/historyStore';
import type { HistoryPatch, NewHistoryRecord } from '../history/historyRecord';
import type { BackupStage } from './backupStage';
import type { BackupProgress, BackupTarget } from './backupVolume';

/**
 * A backup's history row from its start: `running` with the stage reached, then its outcome. A
 * process killed meanwhile leaves the row `running` under its own pid, and the next run marks it
 * `interrupted` at that stage (HistoryStore.markInterruptedRows).
 */
export class BackupHistoryRow {
  private stage: BackupStage = 'create';
  /** Stage updates in order; a failed one is dropped, since the final update writes everything. */
  private pending: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly history: HistoryStore,
    private readonly id: number | undefined,
  ) {}

  /** Never throws: a history that cannot be written now gets the whole row at the end instead. */
  static async start(history: HistoryStore, target: BackupTarget, runId: string): Promise<BackupHistoryRow> {
    const id = await history
      .append({ operation: 'backup', runId, context: target.context, namespace: target.namespace, pvcName: target.pvc, status: 'running', stage: 'create' })
      .catch(() => undefined);
    return new BackupHistoryRow(history, id);
  }

  /** Wraps a progress listener so each new stage is recorded on the row. */
  tracking(forward?: (progress: BackupProgress) => void): (progress: BackupProgress) => void {
    return (progress) => {
      if (this.id !== undefined && progress.stage !== this.stage) {
        this.stage = progress.stage;
        const id = this.id;
        this.pending = this.pending.then(() => this.history.update(id, { stage: progress.stage })).catch(() => undefined);
      }
      forward?.(progress);
    };
  }

  /** Writes the outcome over the running row (or as a new row if there is none); throws if the history cannot be written. */
  async finish(record: NewHistoryRecord): Promise<void> {
    await this.pending;
    if (this.id !== undefined) {
      const patch: HistoryPatch = {
        status: record.status,
        stage: record.stage,
        message: record.message,
        nextStep: record.nextStep,
        finishedAt: record.finishedAt,
        durationMs: record.durationMs,
        sizeBytes: record.sizeBytes,
        checksum: record.checksum,
        backupPath: record.backupPath,
      };
      if ((await this.history.update(this.id, patch)) !== undefined) {
        return;
      }
    }
    await this.history.append(record);
  }
}
