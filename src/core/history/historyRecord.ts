export const HISTORY_OPERATIONS = ['backup', 'restore'] as const;
export type HistoryOperation = (typeof HISTORY_OPERATIONS)[number];

/**
 * `running` marks a row written at the start of a run and finished later with `update`;
 * `interrupted` one whose process ended (killed, crashed, machine restarted) before it finished.
 */
export const HISTORY_STATUSES = ['success', 'partial', 'failed', 'cancelled', 'running', 'interrupted'] as const;
export type HistoryStatus = (typeof HISTORY_STATUSES)[number];

/** One row of `backup_history`, as read back. Timestamps are ISO-8601 UTC with milliseconds. */
export interface HistoryRecord {
  readonly id: number;
  /** Groups the volumes of one batch, so a report can show "the latest run". */
  readonly runId: string | null;
  readonly operation: HistoryOperation;
  /** Kubeconfig context; null on rows written before contexts were recorded. */
  readonly context: string | null;
  readonly namespace: string;
  readonly pvcName: string;
  readonly status: HistoryStatus;
  /** The stage a failure happened in (`create`, `wait`, `exec`, ...). */
  readonly stage: string | null;
  readonly message: string | null;
  readonly nextStep: string | null;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly sizeBytes: number | null;
  /** Lower-case hex SHA-256 of the archive, as `sha256sum` prints it. */
  readonly checksum: string | null;
  readonly backupPath: string | null;
  /** When the archive was last checked against its checksum after the backup. */
  readonly verifiedAt: string | null;
  /** The result of that check; null when it was never checked. */
  readonly verifyOutcome: VerifyOutcome | null;
  /** What the check found, in words (`checksum differs`, `damaged tar at entry data/x`). */
  readonly verifyMessage: string | null;
  /** When retention deleted the archive; the row stays as history, without an archive. */
  readonly prunedAt: string | null;
  /** How the backup read the volume: from a point-in-time snapshot, or live; null on older rows. */
  readonly consistency: BackupConsistency | null;
  /** The VolumeSnapshot a snapshot backup read, and when it was taken (its creationTime). */
  readonly snapshotName: string | null;
  readonly snapshotAt: string | null;
  /** The application hooks that ran around the backup, as JSON (HookRun[]); null when none ran. */
  readonly hooks: string | null;
  /** The last restore drill of this backup: when, its outcome and what it found. */
  readonly drilledAt: string | null;
  readonly drillOutcome: DrillOutcome | null;
  readonly drillMessage: string | null;
  /** `full`, or `incremental`: the archive holds only what changed since `baseId`. Older rows read as `full`. */
  readonly kind: BackupKind;
  /** The history row of the backup an incremental one builds on; null for a full backup. */
  readonly baseId: number | null;
  /**
   * An incremental backup's manifest as JSON, less its deleted paths (which stay in the archive's manifest): base,
   * chain, listing digest and counts of what it found and sent; null for a full backup.
   */
  readonly increment: string | null;
}

/** `full`: the archive restores the volume alone; `incremental`: it needs its chain of earlier archives first. */
export const BACKUP_KINDS = ['full', 'incremental'] as const;
export type BackupKind = (typeof BACKUP_KINDS)[number];

/** `snapshot`: read from a VolumeSnapshot of one instant; `live`: read while the volume was in use. */
export const BACKUP_CONSISTENCIES = ['snapshot', 'live'] as const;
export type BackupConsistency = (typeof BACKUP_CONSISTENCIES)[number];

/** `ok`: the drill's restored files match the archive; `differs`: some do not; `failed`: the drill could not run. */
export const DRILL_OUTCOMES = ['ok', 'differs', 'failed'] as const;
export type DrillOutcome = (typeof DRILL_OUTCOMES)[number];

/** `ok`, or what was wrong with the archive file when it was last verified. */
export const VERIFY_OUTCOMES = ['ok', 'missing', 'size-differs', 'checksum-differs', 'damaged'] as const;
export type VerifyOutcome = (typeof VERIFY_OUTCOMES)[number];

/** A `Date` or an ISO-8601 string that carries its zone (`Z` or `+02:00`). */
export type HistoryTimestamp = Date | string;

/** What `append` takes: the row minus its id, with optional fields defaulted. */
export interface NewHistoryRecord {
  readonly namespace: string;
  readonly pvcName: string;
  readonly status: HistoryStatus;
  /** Defaults to `backup`. */
  readonly operation?: HistoryOperation;
  readonly runId?: string | null;
  readonly context?: string | null;
  readonly stage?: string | null;
  readonly message?: string | null;
  readonly nextStep?: string | null;
  /** Defaults to the time of the append. */
  readonly createdAt?: HistoryTimestamp;
  readonly finishedAt?: HistoryTimestamp | null;
  readonly durationMs?: number | null;
  readonly sizeBytes?: number | null;
  readonly checksum?: string | null;
  readonly backupPath?: string | null;
  readonly verifiedAt?: HistoryTimestamp | null;
  readonly verifyOutcome?: VerifyOutcome | null;
  readonly verifyMessage?: string | null;
  readonly prunedAt?: HistoryTimestamp | null;
  readonly consistency?: BackupConsistency | null;
  readonly snapshotName?: string | null;
  readonly snapshotAt?: HistoryTimestamp | null;
  readonly hooks?: string | null;
  readonly drilledAt?: HistoryTimestamp | null;
  readonly drillOutcome?: DrillOutcome | null;
  readonly drillMessage?: string | null;
  /** Defaults to `full`; an `incremental` record names its `baseId`. */
  readonly kind?: BackupKind | null;
  readonly baseId?: number | null;
  readonly increment?: string | null;
}

/** Fields `update` may change; identity fields (volume, run, operation, creation time) are fixed. */
export type HistoryPatch = Partial<Omit<NewHistoryRecord, 'namespace' | 'pvcName' | 'operation' | 'runId' | 'context' | 'createdAt'>>;

export interface HistoryFilter {
  readonly context?: string;
  readonly namespace?: string;
  readonly pvc?: string;
  /** One status, or several (e.g. `['failed', 'partial']` for the failures section). */
  readonly status?: HistoryStatus | readonly HistoryStatus[];
  readonly operation?: HistoryOperation;
  readonly runId?: string;
}

export interface HistoryPageQuery extends HistoryFilter {
  /** Defaults to 20, the runbook's page size. */
  readonly limit?: number;
  readonly offset?: number;
}
