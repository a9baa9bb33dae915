import type { RunReport } from '../backup/runReport';
import { runSummary } from '../backup/runReport';
import type { HistoryRecord } from '../history/historyRecord';
import { actionableFailures } from './actionableFailures';
import { markdownCodeBlock, markdownTable, markdownText } from './markdownText';
import { outcomeText } from './outcomeText';
import { formatBytes, formatDuration } from './quantityText';
import type { ActionableFailure, ReportRun } from './reportModel';

export interface ReportExportOptions {
  /** Stamped into the report; defaults to now. */
  readonly generatedAt?: Date;
}

/** Identifies the JSON so other tools can recognise an exported report and its layout version. */
export const REPORT_JSON_KIND = 'nkvm-backup-report';
export const REPORT_JSON_VERSION = 1;

/** The runbook's three sections as JSON, for attaching to an incident or reading with `jq`. */
export function reportToJson(run: RunReport | undefined, historyRows: readonly HistoryRecord[], options: ReportExportOptions = {}): string {
  const report = {
    kind: REPORT_JSON_KIND,
    version: REPORT_JSON_VERSION,
    generatedAt: (options.generatedAt ?? new Date()).toISOString(),
    latestBackupRun: run ? { ...run, summary: runSummary(run) } : null,
    actionableFailures: actionableFailures(run),
    recentBackupHistory: historyRows,
  };
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** The runbook's three sections as Markdown, with the triage commands ready to copy. */
export function reportToMarkdown(run: RunReport | undefined, historyRows: readonly HistoryRecord[], options: ReportExportOptions = {}): string {
  const lines = [
    '# Nerdy K8s Volume Manager backup report',
    '',
    `Generated ${(options.generatedAt ?? new Date()).toISOString()}`,
    '',
    '## Latest Backup Run',
    '',
    ...latestRunLines(run),
    '',
    '## Actionable Failures',
    '',
    ...failureLines(actionableFailures(run)),
    '',
    '## Recent Backup History',
    '',
    ...historyLines(historyRows),
  ];
  return `${lines.join('\n')}\n`;
}

function latestRunLines(run: RunReport | undefined): string[] {
  if (!run) return ['No backup has run in this window yet.'];
  const view: ReportRun = run;
  const facts = [
    view.runId ? `Run ${view.runId}` : 'Run',
    `started ${view.startedAt}`,
    view.finishedAt ? `finished ${view.finishedAt}` : 'still running',
    `concurrency ${view.concurrency}`,
    runSummary(run),
  ];
  return [
    markdownText(facts.join(', ')),
    '',
    ...markdownTable(
      ['Cluster', 'Namespace', 'PVC', 'Outcome', 'Stage', 'Read', 'Hooks', 'Duration', 'Size', 'SHA-256', 'Archive'],
      view.rows.map((row) => [
        row.context,
        row.namespace,
        row.pvc,
        outcomeText(row.state).label,
        row.stage ?? '-',
        readText(row),
        row.hooks?.length ? row.hooks.map((h) => h.summary).join('; ') : '-',
        formatDuration(row.durationMs),
        formatBytes(row.sizeBytes ?? (row.state === 'running' ? row.bytes : undefined)),
        row.checksum ?? '-',
        row.archivePath ?? '-',
      ]),
    ),
  ];
}

function failureLines(failures: readonly ActionableFailure[]): string[] {
  if (failures.length === 0) return ['None: every volume of the latest run was backed up and verified, or no run has finished yet.'];
  return failures.flatMap((failure, index) => [...(index > 0 ? [''] : []), ...oneFailure(failure)]);
}

function oneFailure(failure: ActionableFailure): string[] {
  const lines = [
    `### ${markdownText(`${outcomeText(failure.state).label}: ${failure.namespace}/${failure.pvc} (cluster ${failure.context})`)}`,
    '',
    `- **Stage:** ${markdownText(failure.stage ?? 'unknown')}`,
    `- **Cause:** ${markdownText(failure.cause)}`,
    `- **Next step:** ${markdownText(failure.nextStep ?? 'Run the triage commands below.')}`,
  ];
  if (failure.helperPod) lines.push(`- **Helper pod:** ${markdownText(failure.helperPod)}`);
  if (failure.consistency) lines.push(`- **Read:** ${markdownText(readText(failure))}`);
  if (failure.hooks.length > 0) {
    lines.push('- **Hooks:**', ...failure.hooks.map((h) => `  - ${markdownText(h.summary)}${h.outcome !== 'ok' && h.stderr ? `: ${markdownText(h.stderr.trim().split('\n').slice(-3).join(' | '))}` : ''}`));
  }
  if (failure.events.length > 0) {
    // One quote per event, separated by empty quote lines so each stays its own paragraph.
    lines.push('- **Pod events:**', '', ...failure.events.flatMap((event, i) => [...(i > 0 ? ['  >'] : []), `  > ${markdownText(event)}`]), '');
  }
  if (failure.warnings.length > 0) {
    lines.push('- **Warnings:**', ...failure.warnings.map((warning) => `  - ${markdownText(warning)}`));
  }
  if (lines[lines.length - 1] !== '') lines.push('');
  lines.push('Triage commands:', '', ...markdownCodeBlock('sh', failure.triageCommands.flatMap((c) => [`# ${c.purpose}`, c.command])));
  return lines;
}

/** `snapshot nkvm-snap-x at <time>`, `live`, or `live (auto: <why>)`. */
function readText(row: { consistency?: string; consistencyNote?: string; snapshotName?: string; snapshotAt?: string }): string {
  if (row.consistency === 'snapshot') return `snapshot ${row.snapshotName ?? ''}${row.snapshotAt ? ` at ${row.snapshotAt}` : ''}`.replace(/ +/g, ' ').trim();
  if (row.consistency === 'live') return row.consistencyNote ? `live (auto: ${row.consistencyNote})` : 'live';
  return '-';
}

function historyLines(rows: readonly HistoryRecord[]): string[] {
  if (rows.length === 0) return ['No history yet.'];
  return markdownTable(
    ['Created', 'Cluster', 'Namespace', 'PVC', 'Status', 'Stage', 'Read', 'Duration', 'Size', 'SHA-256', 'Archive or message'],
    rows.map((row) => [
      row.createdAt,
      row.context ?? '-',
      row.namespace,
      row.pvcName,
      outcomeText(row.status).label,
      row.stage ?? '-',
      readText({ consistency: row.consistency ?? undefined, snapshotName: row.snapshotName ?? undefined, snapshotAt: row.snapshotAt ?? undefined }),
      formatDuration(row.durationMs),
      formatBytes(row.sizeBytes),
      row.checksum ?? '-',
      row.backupPath ?? row.message ?? '-',
    ]),
  );
}
