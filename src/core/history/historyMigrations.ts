import type { Database } from 'sql.js';
import { HistorySchemaTooNewError } from './historyErrors';

interface HistoryMigration {
  /** The `PRAGMA user_version` the file has once this step is applied. */
  readonly version: number;
  readonly apply: (db: Database) => void;
}

/**
 * Columns beyond the runbook-era minimum (id, namespace, pvc_name, status, created_at,
 * backup_path, checksum). Added one by one to an older table, so every one must be nullable or
 * carry a constant default.
 */
const VERSION_1_COLUMNS: readonly (readonly [name: string, definition: string])[] = [
  ['run_id', 'TEXT'],
  ['operation', "TEXT NOT NULL DEFAULT 'backup'"],
  ['context', 'TEXT'],
  ['namespace', 'TEXT'],
  ['pvc_name', 'TEXT'],
  ['status', 'TEXT'],
  ['stage', 'TEXT'],
  ['message', 'TEXT'],
  ['next_step', 'TEXT'],
  ['created_at', 'TEXT'],
  ['finished_at', 'TEXT'],
  ['duration_ms', 'INTEGER'],
  ['size_bytes', 'INTEGER'],
  ['checksum', 'TEXT'],
  ['backup_path', 'TEXT'],
  ['verified_at', 'TEXT'],
];

// Status and operation are checked in code, not with CHECK constraints: adding a status later
// would otherwise need a full table rebuild in a migration.
const CREATE_TABLE = `CREATE TABLE backup_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT,
  operation TEXT NOT NULL DEFAULT 'backup',
  context TEXT,
  namespace TEXT NOT NULL,
  pvc_name TEXT NOT NULL,
  status TEXT NOT NULL,
  stage TEXT,
  message TEXT,
  next_step TEXT,
  created_at TEXT NOT NULL,
  finished_at TEXT,
  duration_ms INTEGER,
  size_bytes INTEGER,
  checksum TEXT,
  backup_path TEXT,
  verified_at TEXT
)`;

function columnsOf(db: Database, table = 'backup_history'): Set<string> {
  return new Set((db.exec(`PRAGMA table_info(${table})`)[0]?.values ?? []).map((row) => String(row[1])));
}

/** Creates the table, or brings the earlier tool's table up to version 1 keeping its rows. */
function createOrAdoptTable(db: Database): void {
  const existing = columnsOf(db);
  if (existing.size === 0) {
    db.run(CREATE_TABLE);
  } else {
    for (const [name, definition] of VERSION_1_COLUMNS) {
      if (!existing.has(name)) {
        db.run(`ALTER TABLE backup_history ADD COLUMN ${name} ${definition}`);
      }
    }
  }
  db.run(
    'CREATE INDEX IF NOT EXISTS backup_history_by_volume ON backup_history (context, namespace, pvc_name, created_at)',
  );
  db.run('CREATE INDEX IF NOT EXISTS backup_history_by_created_at ON backup_history (created_at)');
  db.run('CREATE INDEX IF NOT EXISTS backup_history_by_run ON backup_history (run_id)');
}

/**
 * The earlier tool wrote Python `isoformat()` times (`+00:00`, microseconds, sometimes no zone,
 * which it meant as UTC). Mixed with `...123Z` they would not sort by time under the runbook's
 * `ORDER BY created_at`, so they are rewritten to the same instant in this store's format.
 * Only text that starts like a date is touched; SQLite would read bare numbers as Julian days.
 */
function normalizeLegacyTimestamps(db: Database): void {
  const utc = "strftime('%Y-%m-%dT%H:%M:%fZ', created_at)";
  db.run(
    `UPDATE backup_history SET created_at = ${utc}
     WHERE typeof(created_at) = 'text'
       AND created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'
       AND ${utc} IS NOT NULL
       AND created_at <> ${utc}`,
  );
}

/**
 * Verification outcome and pruning on each row, and a cache of archive listings so that browsing a
 * large archive a second time does not read it again. `archive_index` is keyed by the history row;
 * the size and mtime let a reader notice that the archive was replaced.
 */
function addArchiveMaintenance(db: Database): void {
  const existing = columnsOf(db);
  for (const [name, definition] of [
    ['verify_outcome', 'TEXT'],
    ['verify_message', 'TEXT'],
    ['pruned_at', 'TEXT'],
  ] as const) {
    if (!existing.has(name)) {
      db.run(`ALTER TABLE backup_history ADD COLUMN ${name} ${definition}`);
    }
  }
  db.run(`CREATE TABLE IF NOT EXISTS archive_index (
  history_id INTEGER PRIMARY KEY,
  archive_size INTEGER NOT NULL,
  archive_mtime_ms INTEGER NOT NULL,
  archive_sha256 TEXT,
  built_at TEXT NOT NULL,
  entry_count INTEGER NOT NULL,
  entries BLOB NOT NULL
)`);
}

/**
 * The process that writes a `running` row (pid, host, start time, as JSON), so that a later run can
 * tell a row whose process ended from one still being worked on.
 */
function addRunningRowOwner(db: Database): void {
  const existing = columnsOf(db);
  if (!existing.has('owner')) {
    db.run('ALTER TABLE backup_history ADD COLUMN owner TEXT');
  }
}

/**
 * How each backup read the volume (point-in-time snapshot or live) and from which snapshot, the
 * application hooks that ran around it, and the last restore drill of its archive.
 */
function addConsistencyAndDrills(db: Database): void {
  const existing = columnsOf(db);
  for (const name of ['consistency', 'snapshot_name', 'snapshot_at', 'hooks', 'drilled_at', 'drill_outcome', 'drill_message']) {
    if (!existing.has(name)) {
      db.run(`ALTER TABLE backup_history ADD COLUMN ${name} TEXT`);
    }
  }
}

/**
 * Each backup's listing as its archive was received (path, type, size, mode, owner, mtime, link
 * target and the SHA-256 of every file), which a restore drill compares the restored files with.
 * The archive alone cannot tell which file a damaged byte belongs to; this can.
 */
function addBackupDigests(db: Database): void {
  db.run(`CREATE TABLE IF NOT EXISTS backup_digests (
  history_id INTEGER PRIMARY KEY,
  recorded_at TEXT NOT NULL,
  entry_count INTEGER NOT NULL,
  listing BLOB NOT NULL
)`);
}

/**
 * The listing each backup took in its helper pod (names, types, sizes, times to the nanosecond, modes,
 * owners, inodes, link targets), kept so that the next backup of the volume can send only what changed.
 */
function addPodListings(db: Database): void {
  db.run(`CREATE TABLE IF NOT EXISTS pod_listings (
  history_id INTEGER PRIMARY KEY,
  recorded_at TEXT NOT NULL,
  entry_count INTEGER NOT NULL,
  listing_sha256 TEXT NOT NULL,
  listing BLOB NOT NULL
)`);
}

/**
 * Whether a backup's archive holds the whole volume or only what changed since another backup, and that
 * backup's row: a restore needs every archive of the chain, so retention and verify follow `base_id`.
 * NULL in `kind` (every row written before this step) means a full backup.
 */
function addBackupKinds(db: Database): void {
  const existing = columnsOf(db);
  if (!existing.has('kind')) db.run('ALTER TABLE backup_history ADD COLUMN kind TEXT');
  if (!existing.has('base_id')) db.run('ALTER TABLE backup_history ADD COLUMN base_id INTEGER');
  // Retention asks, for each archive it would delete, whether a backup builds on it.
  db.run('CREATE INDEX IF NOT EXISTS backup_history_by_base ON backup_history (base_id)');
}

/**
 * What an incremental backup found and sent (counts as JSON), and the include/exclude set a listing was taken
 * with: the next backup builds on a listing only when it reads the same set.
 */
function addIncrementDetails(db: Database): void {
  if (!columnsOf(db).has('increment')) db.run('ALTER TABLE backup_history ADD COLUMN increment TEXT');
  if (!columnsOf(db, 'pod_listings').has('selection')) db.run('ALTER TABLE pod_listings ADD COLUMN selection TEXT');
}

/** Ordered steps; append new ones, never edit or reorder shipped ones. */
const HISTORY_MIGRATIONS: readonly HistoryMigration[] = [
  { version: 1, apply: createOrAdoptTable },
  { version: 2, apply: normalizeLegacyTimestamps },
  { version: 3, apply: addArchiveMaintenance },
  { version: 4, apply: addRunningRowOwner },
  { version: 5, apply: addConsistencyAndDrills },
  { version: 6, apply: addBackupDigests },
  { version: 7, apply: addPodListings },
  { version: 8, apply: addBackupKinds },
  { version: 9, apply: addIncrementDetails },
];

export const HISTORY_SCHEMA_VERSION = HISTORY_MIGRATIONS[HISTORY_MIGRATIONS.length - 1]!.version;

export function schemaVersionOf(db: Database): number {
  return Number(db.exec('PRAGMA user_version')[0]?.values[0]?.[0] ?? 0);
}

/**
 * Applies the missing steps in one transaction each. Returns the version found, so the caller
 * knows whether the file needs writing back.
 */
export function migrateHistory(db: Database, filePath: string): { readonly from: number; readonly to: number } {
  const from = schemaVersionOf(db);
  if (from > HISTORY_SCHEMA_VERSION) {
    throw new HistorySchemaTooNewError(filePath, from, HISTORY_SCHEMA_VERSION);
  }
  for (const migration of HISTORY_MIGRATIONS) {
    if (migration.version <= from) {
      continue;
    }
    db.run('BEGIN');
    try {
      migration.apply(db);
      db.run(`PRAGMA user_version = ${migration.version}`);
      db.run('COMMIT');
    } catch (error) {
      db.run('ROLLBACK');
      throw error;
    }
  }
  return { from, to: Math.max(from, HISTORY_SCHEMA_VERSION) };
}
