import type { HistoryStatus } from '../history/historyRecord';
import type { ReportRunState } from './reportModel';

export interface OutcomeText {
  readonly label: string;
  /** A symbol shown beside the label, so the outcome never relies on colour alone. */
  readonly icon: string;
}

/** Words for run states and history statuses. */
export const OUTCOME_TEXT: Readonly<Record<ReportRunState | HistoryStatus, OutcomeText>> = {
  queued: { label: 'Queued', icon: '○' },
  running: { label: 'Running', icon: '◔' },
  success: { label: 'Backed up', icon: '✓' },
  partial: { label: 'Partial', icon: '⚠' },
  failed: { label: 'Failed', icon: '✕' },
  cancelled: { label: 'Cancelled', icon: '⊘' },
  // Only in the history: the process running it ended (killed, crashed, the machine restarted).
  interrupted: { label: 'Interrupted', icon: '↯' },
};

export function outcomeText(state: string): OutcomeText {
  return Object.hasOwn(OUTCOME_TEXT, state) ? OUTCOME_TEXT[state as ReportRunState | HistoryStatus] : { label: state, icon: '?' };
}

/** A history status in a few words; an interrupted row says how far it got. */
export function statusInWords(status: string, stage: string | null): string {
  return status === 'interrupted' ? `interrupted${stage ? ` at the ${stage} stage` : ''}` : status;
}
