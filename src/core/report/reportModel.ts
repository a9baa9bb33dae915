import type { BackupStage } from '../backup/backupStage';
import type { BackupConsistency } from '../history/historyRecord';

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
  /** How the volume was read; absent while running and when the backup failed before deciding. */
  readonly consistency?: BackupConsistency;
  /** Why `auto` read the volume live. */
  readonly consistencyNote?: string;
  readonly snapshotName?: string;
  /** When the snapshot was cut: the instant the archive shows. */
  readonly snapshotAt?: string;
  /** The application hooks that ran around the backup, in order. */
  readonly hooks?: readonly ReportHookRun[];
  /** The backup an incremental one builds on (its size is what it sent); absent for a full backup. */
  readonly baseId?: number;
}

/** A hook run as the report shows it: HookRun (hooks/hookRun.ts) with its one-line summary, mirrored for the browser bundle. */
export interface ReportHookRun {
  readonly phase: 'pre' | 'post';
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
  readonly command: readonly string[];
  readonly onError: 'Fail' | 'Continue';
  readonly exitCode: number | null;
  /** The end of the output; the cut counts say how many bytes before it were not kept. */
  readonly stdout: string;
  readonly stdoutCutBytes: number;
  readonly stderr: string;
  readonly stderrCutBytes: number;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly outcome: 'ok' | 'failed' | 'timed-out' | 'error';
  readonly message: string;
  /** `pre hook in shop/db-0 (pg): exit 0 in 0.4 s` */
  readonly summary: string;
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
  readonly consistency?: BackupConsistency;
  readonly consistencyNote?: string;
  readonly snapshotName?: string;
  /** Every hook that ran; the failure card shows the output of those that did not succeed. */
  readonly hooks: readonly ReportHookRun[];
  readonly triageCommands: readonly TriageCommand[];
}
