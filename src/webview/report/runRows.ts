import { transferText } from '../../core/report/backupProgressText';
import { OUTCOME_TEXT, type OutcomeText } from '../../core/report/outcomeText';
import { formatBytes, formatDuration } from '../../core/report/quantityText';
import type { ReportHookRun, ReportRun, ReportRunState } from '../../core/report/reportModel';
import type { ReportLatestRun } from '../../report/reportProtocol';
import type { BackupConsistency } from '../../core/history/historyRecord';

/** How a backup read its volume, as the report's tables show it. */
export interface ReadView {
  readonly consistency?: BackupConsistency | null;
  /** Why `auto` read live; only the latest run knows it. */
  readonly consistencyNote?: string;
  readonly snapshotName?: string | null;
  readonly snapshotAt?: string | null;
}

/** One row of the "Latest Backup Run" table, as display text. */
export interface RunRowView {
  /** Stable across updates, so focus can return to the same row's buttons. */
  readonly key: string;
  readonly context: string;
  readonly namespace: string;
  readonly pvc: string;
  readonly state: ReportRunState;
  readonly outcome: OutcomeText;
  readonly stage: string;
  readonly duration: string;
  readonly size: string;
  /** `sent · incremental on #3` for an incremental backup. */
  readonly kind?: string;
  readonly checksum?: { readonly short: string; readonly full: string };
  readonly archivePath?: string;
  /** The archive's file name; the folder is the same for every row and sits in the tooltip. */
  readonly archiveName?: string;
  /** Bytes so far and the rate, while the volume is being copied. */
  readonly progress?: string;
  /** Snapshot or live, and why; empty until the backup has decided. */
  readonly read: ReadView;
  readonly hooks: readonly ReportHookRun[];
}

const CHECKSUM_SHOWN = 12;

export function runRowViews(run: ReportRun): RunRowView[] {
  return run.rows.map((row) => ({
    key: JSON.stringify([row.context, row.namespace, row.pvc]),
    context: row.context,
    namespace: row.namespace,
    pvc: row.pvc,
    state: row.state,
    outcome: OUTCOME_TEXT[row.state],
    stage: row.stage ?? '-',
    duration: formatDuration(row.durationMs),
    size: formatBytes(row.sizeBytes ?? (row.state === 'running' ? row.bytes : undefined)),
    ...(row.baseId !== undefined ? { kind: `sent · incremental on #${row.baseId}` } : {}),
    checksum: row.checksum ? { short: `${row.checksum.slice(0, CHECKSUM_SHOWN)}…`, full: row.checksum } : undefined,
    archivePath: row.archivePath,
    archiveName: row.archivePath === undefined ? undefined : archiveFileName(row.archivePath),
    progress: row.state === 'running' ? transferText(row) : undefined,
    read: { consistency: row.consistency, consistencyNote: row.consistencyNote, snapshotName: row.snapshotName, snapshotAt: row.snapshotAt },
    hooks: row.hooks ?? [],
  }));
}

/** The last segment of a POSIX or Windows path. */
export function archiveFileName(archivePath: string): string {
  return archivePath.split(/[\\/]/).filter(Boolean).at(-1) ?? archivePath;
}

/**
 * The sentence read out by screen readers. It changes when a volume finishes, not with every
 * progress tick, so a polite live region is not flooded.
 */
export function runStatusText(latest: ReportLatestRun): string {
  const rows = latest.run.rows;
  const finished = rows.filter((r) => r.state !== 'queued' && r.state !== 'running').length;
  if (latest.run.finishedAt) return `Run finished: ${latest.summary}.`;
  return `Run in progress: ${finished} of ${rows.length} volume${rows.length === 1 ? '' : 's'} finished, ${latest.summary}.`;
}

/** True when the latest run has failed volumes and is over, so "Re-run failed" can start them. */
export function canRerunFailed(latest: ReportLatestRun | undefined): boolean {
  return latest !== undefined && latest.run.finishedAt !== undefined && latest.failures.length > 0;
}
