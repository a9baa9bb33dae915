import type { BackupResult, BackupTarget } from '../backup/backupVolume';
import type { ReportRunRow } from './reportModel';
import { reportHookRun } from './reportHookRuns';

type ReadFacts = Pick<ReportRunRow, 'consistency' | 'consistencyNote' | 'snapshotName' | 'snapshotAt' | 'hooks' | 'baseId'>;

/**
 * Copies how a finished backup read its volume (snapshot or live, and why), the backup an incremental one
 * builds on, and the hooks that ran onto
 * its row of the run, so the report's latest run shows them; the run's own reducer keeps the outcome.
 */
export function applyReadFacts(run: { rows: BackupTarget[] }, result: BackupResult): void {
  const row = run.rows.find((r) => r.context === result.context && r.namespace === result.namespace && r.pvc === result.pvc);
  if (!row) return;
  const facts: ReadFacts = {
    consistency: result.consistency,
    consistencyNote: result.consistencyNote,
    snapshotName: result.snapshotName,
    snapshotAt: result.snapshotAt,
    hooks: result.hooks?.map(reportHookRun),
    baseId: result.kind === 'incremental' ? result.baseId : undefined,
  };
  Object.assign(row, facts);
}
