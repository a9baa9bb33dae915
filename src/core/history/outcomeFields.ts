import type { HistoryStatus } from './historyRecord';

/** What a backup and a restore result have in common, as the history records it. */
export interface OperationOutcome {
  runId: string;
  context: string;
  namespace: string;
  pvc: string;
  status: HistoryStatus;
  stage: string;
  message: string;
  nextStep?: string;
  startedAt: Date;
  finishedAt: Date;
  durationMs: number;
}

/** The history columns every operation fills the same way: which volume, which run, how it ended and when. */
export function outcomeFields(result: OperationOutcome) {
  return {
    runId: result.runId,
    context: result.context,
    namespace: result.namespace,
    pvcName: result.pvc,
    status: result.status,
    stage: result.stage,
    message: result.message,
    nextStep: result.nextStep ?? null,
    createdAt: result.startedAt,
    finishedAt: result.finishedAt,
    durationMs: result.durationMs,
  };
}
