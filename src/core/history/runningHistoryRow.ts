import type { HistoryStore } from './historyStore';
import type { HistoryPatch, NewHistoryRecord } from './historyRecord';

/**
 * A backup's or restore's history row from its start: `running` with the stage reached, then its
 * outcome. A process killed meanwhile leaves the row `running` under its own pid, and the next run
 * marks it `interrupted` at that stage (HistoryStore.markInterruptedRows).
 */
export class RunningHistoryRow {
  /** Stage updates in order; a failed one is dropped, since the final update writes everything. */
  private pending: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly history: HistoryStore,
    private readonly id: number | undefined,
    private stage: string,
  ) {}

  /** Never throws: a history that cannot be written now gets the whole row at the end instead. */
  static async start(history: HistoryStore, row: Omit<NewHistoryRecord, 'status'> & { stage: string }): Promise<RunningHistoryRow> {
    const id = await history.append({ ...row, status: 'running' }).catch(() => undefined);
    return new RunningHistoryRow(history, id, row.stage);
  }

  /** Wraps a progress listener so each new stage is recorded on the row. */
  tracking<P extends { stage: string }>(forward?: (progress: P) => void): (progress: P) => void {
    return (progress) => {
      if (this.id !== undefined && progress.stage !== this.stage) {
        this.stage = progress.stage;
        const id = this.id;
        this.pending = this.pending.then(() => this.history.update(id, { stage: progress.stage })).catch(() => undefined);
      }
      forward?.(progress);
    };
  }

  /**
   * Writes the outcome over the running row (or as a new row if there is none) and returns the row's id;
   * throws if the history cannot be written.
   */
  async finish(record: NewHistoryRecord): Promise<number> {
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
        consistency: record.consistency,
        snapshotName: record.snapshotName,
        snapshotAt: record.snapshotAt,
        hooks: record.hooks,
        ...(record.kind !== undefined ? { kind: record.kind, baseId: record.baseId ?? null } : {}),
        increment: record.increment,
      };
      if ((await this.history.update(this.id, patch)) !== undefined) {
        return this.id;
      }
    }
    return this.history.append(record);
  }
}
