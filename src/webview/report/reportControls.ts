import type { ExportFormat, ReportHistoryFilter, ReportVolumeRef } from '../../report/reportProtocol';

/** What the report's buttons and dropdowns can ask for; main.ts turns these into host messages. */
export interface ReportControls {
  copy(text: string, what: string): void;
  revealArchive(path: string): void;
  openArchiveFolder(): void;
  exportReport(format: ExportFormat): void;
  rerunFailed(): void;
  restoreBackup(historyId: number): void;
  verifyBackup(historyId: number): void;
  drillBackup(historyId: number): void;
  consolidateBackup(historyId: number): void;
  queryHistory(filter: ReportHistoryFilter, page: number): void;
  showChart(volume: ReportVolumeRef): void;
}
