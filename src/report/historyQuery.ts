import type { HistoryPageQuery } from '../core/history/historyRecord';
import { HISTORY_PAGE_SIZE, type ReportHistoryFilter } from './reportProtocol';

/**
 * Copies the filter field by field: a filter comes from the webview, and spreading it would let
 * unexpected keys (`limit`, `runId`) through to the store.
 */
export function cleanFilter(filter: ReportHistoryFilter): ReportHistoryFilter {
  const clean: { -readonly [K in keyof ReportHistoryFilter]: ReportHistoryFilter[K] } = {};
  if (filter.context !== undefined) clean.context = filter.context;
  if (filter.namespace !== undefined) clean.namespace = filter.namespace;
  if (filter.pvc !== undefined) clean.pvc = filter.pvc;
  if (filter.status !== undefined) clean.status = filter.status;
  return clean;
}

export function historyPageQuery(filter: ReportHistoryFilter, page: number): HistoryPageQuery {
  return { ...cleanFilter(filter), limit: HISTORY_PAGE_SIZE, offset: page * HISTORY_PAGE_SIZE };
}

/** The last page that has rows, so a page restored after the history shrank is not empty. */
export function lastPage(total: number): number {
  return Math.max(0, Math.ceil(total / HISTORY_PAGE_SIZE) - 1);
}
