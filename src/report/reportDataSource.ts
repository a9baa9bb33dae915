import type * as vscode from 'vscode';
import type { RunReport } from '../core/backup/runReport';
import type { HistoryPageQuery, HistoryRecord } from '../core/history/historyRecord';

/** Where the report reads its data: the run this window started last, and the shared history. */
export interface ReportDataSource {
  latestRun(): RunReport | undefined;
  /** Fires on every change of the latest run, including progress; the panel throttles it. */
  readonly onDidChangeRun: vscode.Event<RunReport>;
  queryHistory(query: HistoryPageQuery): Promise<{ rows: HistoryRecord[]; total: number }>;
  /** Recent records of one volume, in any order; the chart sorts them. */
  pvcSeries(context: string, namespace: string, pvc: string): Promise<HistoryRecord[]>;
  readonly onDidChangeHistory: vscode.Event<void>;
}
