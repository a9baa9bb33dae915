import type { BackupStage } from './backupStage';
import type { BackupProgress, BackupResult, BackupStatus, BackupTarget } from './backupVolume';

export type VolumeRunState = 'queued' | 'running' | BackupStatus;

/** One volume of a run as the report shows it, live while the run goes on. */
export interface VolumeRunRow extends BackupTarget {
  state: VolumeRunState;
  stage?: BackupStage;
  bytes: number;
  bytesPerSecond: number;
  /** A backup in parts while it runs: each stream's rate, the parts done, the time left. */
  parallel?: BackupProgress['parallel'];
  durationMs?: number;
  sizeBytes?: number;
  checksum?: string;
  archivePath?: string;
  message?: string;
  nextStep?: string;
  evidence: string[];
  warnings: string[];
  helperPod?: string;
}

/** The latest run: what the report's "Latest Backup Run" and "Actionable Failures" sections show. */
export interface RunReport {
  runId?: string;
  startedAt: string;
  finishedAt?: string;
  concurrency: number;
  rows: VolumeRunRow[];
}

const key = (t: BackupTarget): string => `${t.context}\u0000${t.namespace}\u0000${t.pvc}`;

export function newRunReport(targets: BackupTarget[], concurrency: number, startedAt = new Date()): RunReport {
  return {
    startedAt: startedAt.toISOString(),
    concurrency,
    rows: targets.map((t) => ({ ...t, state: 'queued', bytes: 0, bytesPerSecond: 0, evidence: [], warnings: [] })),
  };
}

export function applyProgress(report: RunReport, p: BackupProgress): void {
  const row = report.rows.find((r) => key(r) === key(p));
  if (!row || (row.state !== 'queued' && row.state !== 'running')) return;
  Object.assign(row, { state: 'running', stage: p.stage, bytes: p.bytes, bytesPerSecond: p.bytesPerSecond, parallel: p.parallel });
}

export function applyResult(report: RunReport, r: BackupResult): void {
  report.runId = r.runId;
  const row = report.rows.find((x) => key(x) === key(r));
  if (!row) return;
  Object.assign(row, {
    state: r.status,
    parallel: undefined,
    stage: r.stage,
    bytes: r.sizeBytes ?? row.bytes,
    durationMs: r.durationMs,
    sizeBytes: r.sizeBytes,
    checksum: r.checksum,
    archivePath: r.archivePath,
    message: r.message,
    nextStep: r.nextStep,
    evidence: r.evidence,
    warnings: r.warnings,
    helperPod: r.helperPod,
  });
  if (report.rows.every((x) => x.state !== 'queued' && x.state !== 'running')) report.finishedAt = new Date().toISOString();
}

/** "3 backed up, 1 failed" */
export function runSummary(report: RunReport): string {
  const count = (s: VolumeRunState): number => report.rows.filter((r) => r.state === s).length;
  const parts = [`${count('success')} backed up`];
  for (const s of ['partial', 'failed', 'cancelled'] as const) if (count(s)) parts.push(`${count(s)} ${s}`);
  return parts.join(', ');
}
