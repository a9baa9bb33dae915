import type { ParamsObject, SqlValue } from 'sql.js';
import {
  BACKUP_CONSISTENCIES,
  BACKUP_KINDS,
  DRILL_OUTCOMES,
  HISTORY_OPERATIONS,
  HISTORY_STATUSES,
  VERIFY_OUTCOMES,
  type BackupConsistency,
  type BackupKind,
  type DrillOutcome,
  type HistoryOperation,
  type HistoryPatch,
  type HistoryRecord,
  type HistoryStatus,
  type HistoryTimestamp,
  type NewHistoryRecord,
  type VerifyOutcome,
} from './historyRecord';

/** Record field to column name; the one place the camelCase API meets the snake_case table. */
export const HISTORY_COLUMNS = {
  id: 'id',
  runId: 'run_id',
  operation: 'operation',
  context: 'context',
  namespace: 'namespace',
  pvcName: 'pvc_name',
  status: 'status',
  stage: 'stage',
  message: 'message',
  nextStep: 'next_step',
  createdAt: 'created_at',
  finishedAt: 'finished_at',
  durationMs: 'duration_ms',
  sizeBytes: 'size_bytes',
  checksum: 'checksum',
  backupPath: 'backup_path',
  verifiedAt: 'verified_at',
  verifyOutcome: 'verify_outcome',
  verifyMessage: 'verify_message',
  prunedAt: 'pruned_at',
  consistency: 'consistency',
  snapshotName: 'snapshot_name',
  snapshotAt: 'snapshot_at',
  hooks: 'hooks',
  drilledAt: 'drilled_at',
  drillOutcome: 'drill_outcome',
  drillMessage: 'drill_message',
  kind: 'kind',
  baseId: 'base_id',
  increment: 'increment',
} as const satisfies Record<keyof HistoryRecord, string>;

export type HistoryColumnValues = Partial<Record<keyof HistoryRecord, SqlValue>>;

const SELECT_LIST = Object.values(HISTORY_COLUMNS).join(', ');
export const SELECT_HISTORY = `SELECT ${SELECT_LIST} FROM backup_history`;

/** Checks a new record and turns it into column values, filling the defaults. */
export function columnsForNewRecord(record: NewHistoryRecord, now: Date): HistoryColumnValues {
  return {
    runId: optionalText(record.runId, 'runId'),
    operation: oneOf(record.operation ?? 'backup', HISTORY_OPERATIONS, 'operation'),
    context: optionalText(record.context, 'context'),
    namespace: requiredText(record.namespace, 'namespace'),
    pvcName: requiredText(record.pvcName, 'pvcName'),
    status: oneOf(record.status, HISTORY_STATUSES, 'status'),
    stage: optionalText(record.stage, 'stage'),
    message: optionalText(record.message, 'message'),
    nextStep: optionalText(record.nextStep, 'nextStep'),
    createdAt: isoTimestamp(record.createdAt ?? now, 'createdAt'),
    finishedAt: optionalTimestamp(record.finishedAt, 'finishedAt'),
    durationMs: optionalCount(record.durationMs, 'durationMs'),
    sizeBytes: optionalCount(record.sizeBytes, 'sizeBytes'),
    checksum: optionalChecksum(record.checksum),
    backupPath: optionalText(record.backupPath, 'backupPath'),
    verifiedAt: optionalTimestamp(record.verifiedAt, 'verifiedAt'),
    verifyOutcome: optionalOutcome(record.verifyOutcome),
    verifyMessage: optionalText(record.verifyMessage, 'verifyMessage'),
    prunedAt: optionalTimestamp(record.prunedAt, 'prunedAt'),
    consistency: optionalOneOf(record.consistency, BACKUP_CONSISTENCIES, 'consistency'),
    snapshotName: optionalText(record.snapshotName, 'snapshotName'),
    snapshotAt: optionalTimestamp(record.snapshotAt, 'snapshotAt'),
    hooks: optionalText(record.hooks, 'hooks'),
    drilledAt: optionalTimestamp(record.drilledAt, 'drilledAt'),
    drillOutcome: optionalOneOf(record.drillOutcome, DRILL_OUTCOMES, 'drillOutcome'),
    drillMessage: optionalText(record.drillMessage, 'drillMessage'),
    ...kindColumns(record.kind ?? 'full', record.baseId ?? null),
    increment: optionalText(record.increment, 'increment'),
  };
}

/** Checks a patch; fields left out stay as they are, fields set to null are cleared. */
export function columnsForPatch(patch: HistoryPatch): HistoryColumnValues {
  const columns: HistoryColumnValues = {};
  if (patch.status !== undefined) columns.status = oneOf(patch.status, HISTORY_STATUSES, 'status');
  if (patch.stage !== undefined) columns.stage = optionalText(patch.stage, 'stage');
  if (patch.message !== undefined) columns.message = optionalText(patch.message, 'message');
  if (patch.nextStep !== undefined) columns.nextStep = optionalText(patch.nextStep, 'nextStep');
  if (patch.finishedAt !== undefined) columns.finishedAt = optionalTimestamp(patch.finishedAt, 'finishedAt');
  if (patch.durationMs !== undefined) columns.durationMs = optionalCount(patch.durationMs, 'durationMs');
  if (patch.sizeBytes !== undefined) columns.sizeBytes = optionalCount(patch.sizeBytes, 'sizeBytes');
  if (patch.checksum !== undefined) columns.checksum = optionalChecksum(patch.checksum);
  if (patch.backupPath !== undefined) columns.backupPath = optionalText(patch.backupPath, 'backupPath');
  if (patch.verifiedAt !== undefined) columns.verifiedAt = optionalTimestamp(patch.verifiedAt, 'verifiedAt');
  if (patch.verifyOutcome !== undefined) columns.verifyOutcome = optionalOutcome(patch.verifyOutcome);
  if (patch.verifyMessage !== undefined) columns.verifyMessage = optionalText(patch.verifyMessage, 'verifyMessage');
  if (patch.prunedAt !== undefined) columns.prunedAt = optionalTimestamp(patch.prunedAt, 'prunedAt');
  if (patch.consistency !== undefined) columns.consistency = optionalOneOf(patch.consistency, BACKUP_CONSISTENCIES, 'consistency');
  if (patch.snapshotName !== undefined) columns.snapshotName = optionalText(patch.snapshotName, 'snapshotName');
  if (patch.snapshotAt !== undefined) columns.snapshotAt = optionalTimestamp(patch.snapshotAt, 'snapshotAt');
  if (patch.hooks !== undefined) columns.hooks = optionalText(patch.hooks, 'hooks');
  if (patch.drilledAt !== undefined) columns.drilledAt = optionalTimestamp(patch.drilledAt, 'drilledAt');
  if (patch.drillOutcome !== undefined) columns.drillOutcome = optionalOneOf(patch.drillOutcome, DRILL_OUTCOMES, 'drillOutcome');
  if (patch.drillMessage !== undefined) columns.drillMessage = optionalText(patch.drillMessage, 'drillMessage');
  if (patch.increment !== undefined) columns.increment = optionalText(patch.increment, 'increment');
  if (patch.kind !== undefined || patch.baseId !== undefined) {
    // Both change together: a row cannot be left incremental without a base, or full with one.
    if (patch.kind === undefined || patch.baseId === undefined) throw new RangeError('kind and baseId must be changed together');
    Object.assign(columns, kindColumns(patch.kind ?? 'full', patch.baseId));
  }
  return columns;
}

/** An incremental backup names the row it builds on; a full one names none. */
function kindColumns(kind: unknown, baseId: unknown): Pick<HistoryColumnValues, 'kind' | 'baseId'> {
  const checked = oneOf(kind, BACKUP_KINDS, 'kind');
  const base = baseId === null ? null : optionalCount(baseId, 'baseId');
  if (checked === 'incremental' && (base === null || base === 0)) {
    throw new RangeError(`an incremental backup must name the history id of its base, got ${JSON.stringify(baseId)}`);
  }
  if (checked === 'full' && base !== null) throw new RangeError(`a full backup has no base, got baseId ${base}`);
  return { kind: checked, baseId: base };
}

/**
 * Rows written by the earlier tool or by hand may hold NULLs in columns this version fills
 * itself; they are read as the closest neutral value rather than failing the whole page.
 */
export function recordFromRow(row: ParamsObject): HistoryRecord {
  return {
    id: Number(row.id),
    runId: textOrNull(row.run_id),
    operation: (textOrNull(row.operation) ?? 'backup') as HistoryOperation,
    context: textOrNull(row.context),
    namespace: textOrNull(row.namespace) ?? '',
    pvcName: textOrNull(row.pvc_name) ?? '',
    status: (textOrNull(row.status) ?? 'failed') as HistoryStatus,
    stage: textOrNull(row.stage),
    message: textOrNull(row.message),
    nextStep: textOrNull(row.next_step),
    createdAt: textOrNull(row.created_at) ?? '',
    finishedAt: textOrNull(row.finished_at),
    durationMs: numberOrNull(row.duration_ms),
    sizeBytes: numberOrNull(row.size_bytes),
    checksum: textOrNull(row.checksum),
    backupPath: textOrNull(row.backup_path),
    verifiedAt: textOrNull(row.verified_at),
    verifyOutcome: textOrNull(row.verify_outcome) as VerifyOutcome | null,
    verifyMessage: textOrNull(row.verify_message),
    prunedAt: textOrNull(row.pruned_at),
    consistency: textOrNull(row.consistency) as BackupConsistency | null,
    snapshotName: textOrNull(row.snapshot_name),
    snapshotAt: textOrNull(row.snapshot_at),
    hooks: textOrNull(row.hooks),
    drilledAt: textOrNull(row.drilled_at),
    drillOutcome: textOrNull(row.drill_outcome) as DrillOutcome | null,
    drillMessage: textOrNull(row.drill_message),
    kind: (textOrNull(row.kind) ?? 'full') as BackupKind,
    baseId: numberOrNull(row.base_id),
    increment: textOrNull(row.increment),
  };
}

/** ISO-8601 UTC with milliseconds, so that text order in SQLite is time order. */
export function isoTimestamp(value: HistoryTimestamp, field: string): string {
  let time: number;
  if (value instanceof Date) {
    time = value.getTime();
  } else if (typeof value === 'string' && /(?:Z|[+-]\d\d:?\d\d)$/i.test(value.trim())) {
    time = Date.parse(value);
  } else {
    // A string without a zone would be read as local time, which shifts rows between machines.
    throw new RangeError(`${field} must be a Date or an ISO-8601 timestamp with a zone, got ${JSON.stringify(value)}`);
  }
  if (!Number.isFinite(time)) {
    throw new RangeError(`${field} is not a valid time: ${JSON.stringify(String(value))}`);
  }
  return new Date(time).toISOString();
}

function optionalTimestamp(value: HistoryTimestamp | null | undefined, field: string): string | null {
  return value === undefined || value === null ? null : isoTimestamp(value, field);
}

function optionalOutcome(value: unknown): VerifyOutcome | null {
  return value === undefined || value === null ? null : oneOf(value, VERIFY_OUTCOMES, 'verifyOutcome');
}

function requiredText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new RangeError(`${field} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

function optionalText(value: unknown, field: string): string | null {
  if (value === undefined || value === null) {
    return null;
  }
  if (typeof value !== 'string') {
    throw new RangeError(`${field} must be a string or null, got ${JSON.stringify(value)}`);
  }
  return value;
}

function optionalCount(value: unknown, field: string): number | null {
  if (value === undefined || value === null) {
    return null;
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${field} must be a whole number of at least 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

function optionalChecksum(value: unknown): string | null {
  if (value === undefined || value === null) {
    return null;
  }
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/i.test(value)) {
    throw new RangeError(`checksum must be a hex SHA-256 (64 characters), got ${JSON.stringify(value)}`);
  }
  // sha256sum prints lower case; storing the same makes a plain text comparison work.
  return value.toLowerCase();
}

function optionalOneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T | null {
  return value === undefined || value === null ? null : oneOf(value, allowed, field);
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new RangeError(`${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

function textOrNull(value: SqlValue | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}

function numberOrNull(value: SqlValue | undefined): number | null {
  return typeof value === 'number' ? value : value === null || value === undefined ? null : Number(value);
}
