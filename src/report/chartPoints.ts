import type { HistoryRecord } from '../core/history/historyRecord';
import type { ReportChartPoint } from './reportProtocol';

/** Backups of one volume as chart points, oldest first; restores and unfinished rows are left out. */
export function chartPoints(records: readonly HistoryRecord[]): ReportChartPoint[] {
  return records
    .filter((r) => r.operation === 'backup' && r.status !== 'running' && r.status !== 'interrupted')
    .map((r) => ({ at: r.createdAt, status: r.status, sizeBytes: r.sizeBytes, durationMs: r.durationMs }))
    .sort((a, b) => a.at.localeCompare(b.at));
}
