import type { HistoryRecord } from '../history/historyRecord';
import { describeHookRun, hookRunsFromHistory, type HookRun } from '../hooks/hookRun';
import type { ReportHookRun } from './reportModel';

/** A hook run with its summary line, computed here so the webview needs none of the hooks engine. */
export function reportHookRun(run: HookRun): ReportHookRun {
  return { ...run, summary: describeHookRun(run) };
}

/** The hooks of a history row (its JSON column), ready for the report. */
export function historyHookRuns(row: Pick<HistoryRecord, 'hooks'>): ReportHookRun[] {
  return hookRunsFromHistory(row.hooks).map(reportHookRun);
}
