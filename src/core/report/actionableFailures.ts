import type { ActionableFailure, ReportRun, ReportRunRow } from './reportModel';
import { triageCommands } from './triageCommands';

const ACTIONABLE = new Set<string>(['partial', 'failed', 'cancelled']);

function isActionable(row: ReportRunRow): row is ReportRunRow & { state: ActionableFailure['state'] } {
  return ACTIONABLE.has(row.state);
}

/** The volumes of a run that need attention, in run order, each with its evidence and triage commands. */
export function actionableFailures(run: ReportRun | undefined): ActionableFailure[] {
  if (!run) return [];
  return run.rows.filter(isActionable).map((row) => ({
    context: row.context,
    namespace: row.namespace,
    pvc: row.pvc,
    state: row.state,
    stage: row.stage,
    cause: row.message ?? 'No cause was recorded.',
    nextStep: row.nextStep,
    events: row.evidence,
    warnings: row.warnings,
    helperPod: row.helperPod,
    consistency: row.consistency,
    consistencyNote: row.consistencyNote,
    snapshotName: row.snapshotName,
    hooks: row.hooks ?? [],
    triageCommands: triageCommands({ ...row, failedHook: row.hooks?.find((h) => h.outcome !== 'ok') }),
  }));
}
