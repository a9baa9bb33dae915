import { HISTORY_STATUSES, type HistoryStatus } from '../core/history/historyRecord';
import type { ReportHistoryFilter, ReportUiState, ReportVolumeRef, ReportWebviewMessage } from './reportProtocol';

// The webview runs content derived from the cluster, so the host checks every message it receives
// against the protocol before acting on it, and refuses anything else.

/** Kubernetes names are at most 253 characters; context names get some slack. */
const MAX_NAME = 1024;
/** Enough for any checksum, path or command the report offers to copy. */
const MAX_TEXT = 64 * 1024;
const MAX_PAGE = 1_000_000;

type Fields = Readonly<Record<string, unknown>>;

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isText(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

function isName(value: unknown): value is string {
  return isText(value, MAX_NAME);
}

function isOptionalName(value: unknown): value is string | undefined {
  return value === undefined || isName(value);
}

function isPage(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_PAGE;
}

function isHistoryStatus(value: unknown): value is HistoryStatus {
  return (HISTORY_STATUSES as readonly unknown[]).includes(value);
}

export function isHistoryFilter(value: unknown): value is ReportHistoryFilter {
  return (
    isFields(value) &&
    isOptionalName(value.context) &&
    isOptionalName(value.namespace) &&
    isOptionalName(value.pvc) &&
    (value.status === undefined || isHistoryStatus(value.status))
  );
}

function isVolumeRef(value: Fields): value is Fields & ReportVolumeRef {
  return isName(value.context) && isName(value.namespace) && isName(value.pvc);
}

function isUiState(value: unknown): value is ReportUiState {
  return (
    isFields(value) &&
    isHistoryFilter(value.filter) &&
    isPage(value.page) &&
    (value.chart === undefined || (isFields(value.chart) && isVolumeRef(value.chart)))
  );
}

/** True only for a message the protocol defines, with every field of the right type and size. */
export function isReportWebviewMessage(value: unknown): value is ReportWebviewMessage {
  if (!isFields(value)) return false;
  switch (value.type) {
    case 'ready':
      return value.ui === undefined || isUiState(value.ui);
    case 'queryHistory':
      return isHistoryFilter(value.filter) && isPage(value.page);
    case 'chartFor':
      return isVolumeRef(value);
    case 'copyText':
      return isText(value.text, MAX_TEXT);
    case 'revealArchive':
      return isText(value.path, MAX_TEXT);
    case 'exportReport':
      return value.format === 'json' || value.format === 'markdown';
    case 'restoreBackup':
    case 'verifyBackup':
    case 'drillBackup':
    case 'consolidateBackup':
      return Number.isSafeInteger(value.historyId) && (value.historyId as number) > 0;
    case 'openArchiveFolder':
    case 'rerunFailed':
      return true;
    default:
      return false;
  }
}
