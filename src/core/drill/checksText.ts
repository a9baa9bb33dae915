import type { HistoryRecord } from '../history/historyRecord';

/** `verify ok, drill differs`: the last checks of a backup's archive, for a table cell or a tree description. */
export function backupChecksText(record: Pick<HistoryRecord, 'verifyOutcome' | 'drillOutcome'>): string {
  const parts = [record.verifyOutcome && `verify ${record.verifyOutcome}`, record.drillOutcome && `drill ${record.drillOutcome}`].filter(Boolean);
  return parts.length ? parts.join(', ') : '-';
}

/** The drill's line for a tooltip: when, its outcome and what it found. */
export function drillTooltipLine(record: Pick<HistoryRecord, 'drilledAt' | 'drillOutcome' | 'drillMessage'>): string | undefined {
  if (!record.drillOutcome) return undefined;
  return `Restore drill ${record.drillOutcome}${record.drilledAt ? ` (${record.drilledAt})` : ''}${record.drillMessage ? `: ${record.drillMessage}` : ''}`;
}
