import type { ReportRunState } from './reportModel';

export interface OutcomeText {
  readonly label: string;
  /** A symbol shown beside the label, so the outcome never relies on colour alone. */
  readonly icon: string;
}

/** Words for run states and history statuses (the latter are a subset of the former). */
export const OUTCOME_TEXT: Readonly<Record<ReportRunState, OutcomeText>> = {
  queued: { label: 'Queued', icon: '○' },
  running: { label: 'Running', icon: '◔' },
  success: { label: 'Backed up', icon: '✓' },
  partial: { label: 'Partial', icon: '⚠' },
  failed: { label: 'Failed', icon: '✕' },
  cancelled: { label: 'Cancelled', icon: '⊘' },
};

export function outcomeText(state: string): OutcomeText {
  return Object.hasOwn(OUTCOME_TEXT, state) ? OUTCOME_TEXT[state as ReportRunState] : { label: state, icon: '?' };
}
