// The one contract between the report panel (extension host) and its webview. Both sides import
// it, so it may only import modules that are free of `vscode` and Node.
import type { HistoryRecord, HistoryStatus } from '../core/history/historyRecord';
import type { ActionableFailure, ReportHookRun, ReportRun } from '../core/report/reportModel';

export const REPORT_VIEW_TYPE = 'nkvm.report';
/** Rows per history page, the runbook's "last 20". */
export const HISTORY_PAGE_SIZE = 20;

export interface ReportVolumeRef {
  readonly context: string;
  readonly namespace: string;
  readonly pvc: string;
}

/** A volume seen in the history or the latest run; rows written before contexts were recorded have none. */
export interface KnownVolume {
  readonly context: string | null;
  readonly namespace: string;
  readonly pvc: string;
}

/** What the history dropdowns select; an absent field means "all". */
export interface ReportHistoryFilter {
  readonly context?: string;
  readonly namespace?: string;
  readonly pvc?: string;
  readonly status?: HistoryStatus;
}

/** A history row with its hook runs read from the `hooks` column (absent: none recorded). */
export interface ReportHistoryRow extends HistoryRecord {
  readonly hookRuns?: readonly ReportHookRun[];
}

export interface ReportHistoryPage {
  readonly filter: ReportHistoryFilter;
  /** Zero-based. */
  readonly page: number;
  readonly pageSize: number;
  readonly total: number;
  /** Newest first. */
  readonly rows: readonly ReportHistoryRow[];
}

export interface ReportChartPoint {
  readonly at: string;
  readonly status: HistoryStatus;
  readonly sizeBytes: number | null;
  readonly durationMs: number | null;
}

export interface ReportChartSeries {
  readonly volume: ReportVolumeRef;
  /** Oldest first. */
  readonly points: readonly ReportChartPoint[];
}

export interface ReportLatestRun {
  readonly run: ReportRun;
  /** "3 backed up, 1 failed" */
  readonly summary: string;
  readonly failures: readonly ActionableFailure[];
}

export interface ReportViewState {
  /** Absent until a backup has run in this window. */
  readonly latest?: ReportLatestRun;
  readonly history: ReportHistoryPage;
  readonly knownVolumes: readonly KnownVolume[];
  /** Absent when no volume has history to chart. */
  readonly chart?: ReportChartSeries;
}

/** What the webview keeps across reloads with `setState`, and hands back in `ready`. */
export interface ReportUiState {
  readonly filter: ReportHistoryFilter;
  readonly page: number;
  readonly chart?: ReportVolumeRef;
}

export type ReportHostMessage =
  | { readonly type: 'state'; readonly state: ReportViewState }
  | { readonly type: 'runUpdated'; readonly latest: ReportLatestRun }
  | { readonly type: 'historyPage'; readonly history: ReportHistoryPage; readonly knownVolumes: readonly KnownVolume[] }
  | { readonly type: 'chartData'; readonly chart?: ReportChartSeries }
  /** Something the user asked for could not be done; shown in the report's status line. */
  | { readonly type: 'notice'; readonly text: string };

export type ExportFormat = 'json' | 'markdown';

export type ReportWebviewMessage =
  | { readonly type: 'ready'; readonly ui?: ReportUiState }
  | { readonly type: 'queryHistory'; readonly filter: ReportHistoryFilter; readonly page: number }
  | ({ readonly type: 'chartFor' } & ReportVolumeRef)
  | { readonly type: 'copyText'; readonly text: string }
  | { readonly type: 'revealArchive'; readonly path: string }
  | { readonly type: 'openArchiveFolder' }
  | { readonly type: 'exportReport'; readonly format: ExportFormat }
  | { readonly type: 'rerunFailed' }
  /** Backup rows of the history: the restore wizard and Verify run on the history id. */
  | { readonly type: 'restoreBackup'; readonly historyId: number }
  | { readonly type: 'verifyBackup'; readonly historyId: number }
  /** Test Restore: a restore drill of the backup into a temporary claim. */
  | { readonly type: 'drillBackup'; readonly historyId: number }
  /** Consolidate: an incremental backup's chain merged into a new full backup. */
  | { readonly type: 'consolidateBackup'; readonly historyId: number };
