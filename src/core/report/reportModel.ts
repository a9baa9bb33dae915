import type { BackupStage } from '../backup/backupStage';

// The report's shapes, shared by the export, the panel and the webview. They mirror `RunReport`
// from runReport.ts instead of importing it, because that module's imports reach Node-only code
// the browser bundle cannot type-check or load; the host checks the two stay assignable.

export type ReportRunState = 'queued' | 'running' | 'success' | 'partial' | 'failed' | 'cancelled';

export interface ReportRunRow {
  readonly context: string;
  readonly namespace: string;
  readonly pvc: string;
  readonly state: ReportRunState;
  readonly stage?: BackupStage;
  readonly bytes: number;
  readonly bytesPerSecond: number;
  readonly durationMs?: number;
  readonly sizeBytes?: number;
  readonly checksum?: string;
  readonly archivePath?: string;
  readonly message?: string;
  readonly nextStep?: string;
  readonly evidence: readonly string[];
  readonly warnings: readonly string[];
  readonly helperPod?: string;
}

export interface ReportRun {
  readonly runId?: string;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly concurrency: number;
  readonly rows: readonly ReportRunRow[];
}

/** A shell command the user can paste to look into a failure, with what it is for. */
export interface TriageCommand {
  readonly purpose: string;
  readonly command: string;
}

/** One volume of the latest run that did not end in a verified archive, with what to do next. */
export interface ActionableFailure {
  readonly context: string;
  readonly namespace: string;
  readonly pvc: string;
  readonly state: 'partial' | 'failed' | 'cancelled';
  readonly stage?: BackupStage;
  readonly cause: string;
  readonly nextStep?: string;
  /** The helper pod's events and conditions, quoted as the cluster reported them. */
  readonly events: readonly string[];
  readonly warnings: readonly string[];
  readonly helperPod?: string;
  readonly triageCommands: readonly TriageCommand[];
}
