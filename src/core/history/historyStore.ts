import * as path from 'node:path';
import type { Database, SqlJsStatic, SqlValue } from 'sql.js';
import { ensurePrivateDir } from '../config/ensurePrivateDir';
import { replaceArchiveIndex, selectArchiveIndex, type StoredArchiveIndex } from './archiveIndexRows';
import { replaceBackupDigests, selectBackupDigests, type StoredBackupDigests } from './backupDigestRows';
import { canonicalFilePath } from './canonicalFilePath';
import { replacePodListing, selectPodListing, type StoredPodListing } from './podListingRows';
import { currentProcessOwner } from '../liveness/processOwner';
import {
  fileFingerprint,
  moveCorruptFileAside,
  readDatabaseFile,
  removeAbandonedTempFiles,
  writeFileAtomically,
} from './databaseFile';
import { openDatabaseImage } from './databaseImage';
import { acquireFileLock, type FileLockOptions } from './fileLock';
import {
  HISTORY_COLUMNS,
  SELECT_HISTORY,
  columnsForNewRecord,
  columnsForPatch,
  recordFromRow,
  type HistoryColumnValues,
} from './historyColumns';
import { HistoryLockLostError } from './historyErrors';
import { DEFAULT_PAGE_SIZE, NEWEST_FIRST, pageClause, whereClause } from './historyFilter';
import { HISTORY_SCHEMA_VERSION, migrateHistory, schemaVersionOf } from './historyMigrations';
import { findAbandonedRows, markRowsInterrupted } from './interruptedRows';
import type { HistoryFilter, HistoryPageQuery, HistoryPatch, HistoryRecord, NewHistoryRecord } from './historyRecord';
import type { HistoryWarning, HistoryWarningListener } from './historyWarning';
import { loadSqlJs } from './sqlJsRuntime';

export interface HistoryStoreOptions {
  /** The `sql-wasm.wasm` a bundled extension ships; defaults to the one in the `sql.js` package. */
  readonly wasmPath?: string;
  /** Told when a damaged file was moved aside; called after the lock is released, must not throw. */
  readonly onWarning?: HistoryWarningListener;
  readonly lock?: FileLockOptions;
}

/**
 * The backup history in a SQLite file shared by every VS Code window and the command line.
 *
 * sql.js keeps the whole database in memory, so each change is made under a lock file on a fresh
 * copy of what is on disk: no process can overwrite rows another one added. Each save writes a whole
 * new file and renames it over the old one, so a crash, or a writer paused and resumed, never
 * leaves half a write behind, and readers need no lock. Reads use the in-memory copy, reloaded
 * when the file on disk has changed.
 */
export class HistoryStore {
  private db: Database;
  /** False until the file has been read once; the constructor's empty copy is a placeholder. */
  private loaded = false;
  /** Fingerprint of the file version `db` was loaded from or saved as; undefined if none. */
  private fingerprint: string | undefined;
  /** Set while `db` may hold a change that never reached the disk, so it must not be trusted. */
  private diverged = false;
  /** Set when an older file was upgraded in memory only; the next write saves the upgrade. */
  private migratedInMemory = false;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    /** Absolute path of the database file, symlinks resolved. */
    readonly filePath: string,
    private readonly sql: SqlJsStatic,
    private readonly options: HistoryStoreOptions,
  ) {
    this.db = new sql.Database();
  }

  /**
   * Opens or creates the history file (and its folder, 0700), upgrading an older schema and
   * moving a damaged file aside. Loads sql.js on first use in the process.
   */
  static async open(filePath: string, options: HistoryStoreOptions = {}): Promise<HistoryStore> {
    const sql = await loadSqlJs(options.wasmPath);
    const requested = path.resolve(filePath);
    await ensurePrivateDir(path.dirname(requested));
    const store = new HistoryStore(await canonicalFilePath(requested), sql, options);
    try {
      await store.serialize(async () => {
        // Creating, upgrading or repairing the file needs the lock; a healthy current file does not.
        const state = await store.syncFromDisk();
        if (!state.ok || store.fingerprint === undefined || store.migratedInMemory) {
          await store.saveUnderLock(() => ({ changed: false, value: undefined }));
        }
      });
    } catch (error) {
      await store.close(); // Frees the in-memory copy nobody will hold a reference to.
      throw error;
    }
    return store;
  }

  /**
   * Adds a record and returns its id. A `running` record is stamped with this process, so that it
   * becomes `interrupted` (markInterruptedRows) if the process ends before finishing it.
   */
  async append(record: NewHistoryRecord): Promise<number> {
    const columns = columnsForNewRecord(record, new Date());
    const owner = record.status === 'running' ? JSON.stringify(currentProcessOwner()) : null;
    return this.mutate((db) => {
      const names = Object.keys(columns) as (keyof HistoryColumnValues)[];
      db.run(
        `INSERT INTO backup_history (${names.map((name) => HISTORY_COLUMNS[name]).join(', ')}, owner)
         VALUES (${names.map(() => '?').join(', ')}, ?)`,
        [...names.map((name) => columns[name] ?? null), owner],
      );
      return { changed: true, value: Number(db.exec('SELECT last_insert_rowid()')[0]!.values[0]![0]) };
    });
  }

  /** Changes some fields of a record (typically to finish a `running` one); undefined if it is gone. */
  async update(id: number, patch: HistoryPatch): Promise<HistoryRecord | undefined> {
    const columns = columnsForPatch(patch);
    const names = Object.keys(columns) as (keyof HistoryColumnValues)[];
    if (names.length === 0) {
      return this.get(id);
    }
    return this.mutate((db) => {
      db.run(
        // A finished row has no owner any more: only `running` rows are judged by their process.
        `UPDATE backup_history SET ${names.map((name) => `${HISTORY_COLUMNS[name]} = ?`).join(', ')}
         ${patch.status !== undefined && patch.status !== 'running' ? ', owner = NULL' : ''} WHERE id = ?`,
        [...names.map((name) => columns[name] ?? null), id],
      );
      const changed = db.getRowsModified() > 0;
      return { changed, value: changed ? this.selectRecords(`${SELECT_HISTORY} WHERE id = ?`, [id])[0] : undefined };
    });
  }

  /**
   * Marks `interrupted` the `running` rows whose process provably ended (killed, crashed, the
   * machine restarted), keeping the stage they reached; rows of living processes, or of another
   * host, stay `running`. Takes the lock only when there is something to mark.
   */
  async markInterruptedRows(): Promise<HistoryRecord[]> {
    const abandoned = await this.read(() => findAbandonedRows(this.db));
    if (abandoned.length === 0) {
      return [];
    }
    return this.mutate((db) => {
      const ids = markRowsInterrupted(db, abandoned);
      const records = ids.flatMap((id) => this.selectRecords(`${SELECT_HISTORY} WHERE id = ?`, [id]));
      return { changed: ids.length > 0, value: records };
    });
  }

  /** Newest first, optionally filtered; `limit` defaults to 20. */
  async latest(query: HistoryPageQuery = {}): Promise<HistoryRecord[]> {
    const where = whereClause(query);
    const page = pageClause(query);
    return this.read(() =>
      this.selectRecords(`${SELECT_HISTORY} ${where.sql} ${NEWEST_FIRST} ${page.sql}`, [...where.params, ...page.params]),
    );
  }

  async forPvc(context: string, namespace: string, pvc: string, limit = DEFAULT_PAGE_SIZE): Promise<HistoryRecord[]> {
    return this.latest({ context, namespace, pvc, limit });
  }

  /** Every record of one run, in the order they were started. */
  async byRun(runId: string): Promise<HistoryRecord[]> {
    return this.read(() => this.selectRecords(`${SELECT_HISTORY} WHERE run_id = ? ORDER BY created_at, id`, [runId]));
  }

  async get(id: number): Promise<HistoryRecord | undefined> {
    return this.read(() => this.selectRecords(`${SELECT_HISTORY} WHERE id = ?`, [id])[0]);
  }

  async count(filter: HistoryFilter = {}): Promise<number> {
    const where = whereClause(filter);
    return this.read(() => Number(this.db.exec(`SELECT count(*) FROM backup_history ${where.sql}`, where.params)[0]!.values[0]![0]));
  }

  /** Backups whose archive has not been pruned, oldest first: what retention chooses from. */
  async archivedBackups(): Promise<HistoryRecord[]> {
    return this.read(() =>
      this.selectRecords(
        `${SELECT_HISTORY} WHERE operation = 'backup' AND backup_path IS NOT NULL AND pruned_at IS NULL ORDER BY created_at, id`,
        [],
      ),
    );
  }

  /** Incremental backups not pruned, with or without an archive yet: the rows whose bases retention must keep. */
  async incrementalBackups(): Promise<HistoryRecord[]> {
    return this.read(() =>
      this.selectRecords(`${SELECT_HISTORY} WHERE base_id IS NOT NULL AND pruned_at IS NULL ORDER BY created_at, id`, []),
    );
  }

  /** The cached listing of a backup's archive, or undefined if none was saved. */
  async loadArchiveIndex(historyId: number): Promise<StoredArchiveIndex | undefined> {
    return this.read(() => selectArchiveIndex(this.db, historyId));
  }

  /**
   * Saves a listing, replacing an older one for the same row. Only the most recently built
   * listings are kept, because every change exports the whole database from memory.
   */
  async saveArchiveIndex(index: StoredArchiveIndex): Promise<void> {
    await this.mutate((db) => {
      replaceArchiveIndex(db, index);
      return { changed: true, value: undefined };
    });
  }

  /** The listing a backup recorded as its archive was received, or undefined (older rows, failed listings). */
  async loadBackupDigests(historyId: number): Promise<StoredBackupDigests | undefined> {
    return this.read(() => selectBackupDigests(this.db, historyId));
  }

  async saveBackupDigests(digests: StoredBackupDigests): Promise<void> {
    await this.mutate((db) => {
      replaceBackupDigests(db, digests);
      return { changed: true, value: undefined };
    });
  }

  /** The listing a backup took in its helper pod (the base of the next incremental backup), or undefined. */
  async loadPodListing(historyId: number): Promise<StoredPodListing | undefined> {
    return this.read(() => selectPodListing(this.db, historyId));
  }

  async savePodListing(listing: StoredPodListing): Promise<void> {
    await this.mutate((db) => {
      replacePodListing(db, listing);
      return { changed: true, value: undefined };
    });
  }

  /** Records that retention deleted the archive, and drops its cached listing. */
  async markPruned(id: number, at: Date): Promise<HistoryRecord | undefined> {
    return this.mutate((db) => {
      db.run('UPDATE backup_history SET pruned_at = ? WHERE id = ?', [at.toISOString(), id]);
      const changed = db.getRowsModified() > 0;
      db.run('DELETE FROM archive_index WHERE history_id = ?', [id]);
      // Nothing is left to drill once the archive is gone.
      db.run('DELETE FROM backup_digests WHERE history_id = ?', [id]);
      // Nor can a later backup build on an archive that is gone.
      db.run('DELETE FROM pod_listings WHERE history_id = ?', [id]);
      return { changed, value: changed ? this.selectRecords(`${SELECT_HISTORY} WHERE id = ?`, [id])[0] : undefined };
    });
  }

  /** Waits for pending work, then frees the in-memory copy. Later calls fail. */
  async close(): Promise<void> {
    if (this.closed) {
      return;
    }
    const last = this.serialize(async () => this.db.close());
    this.closed = true;
    await last;
  }

  private get lockPath(): string {
    return `${this.filePath}.lock`;
  }

  /** One operation at a time per store, so a read never sees the copy being swapped by a write. */
  private serialize<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) {
      return Promise.reject(new Error(`The history store for ${this.filePath} is closed`));
    }
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private read<T>(query: () => T): Promise<T> {
    return this.serialize(async () => {
      if (!(await this.syncFromDisk()).ok) {
        // The file became unreadable since we last looked, or a writer kept it busy: reading it
        // under the lock finishes or undoes an interrupted write, and repairing it is a write.
        await this.saveUnderLock(() => ({ changed: false, value: undefined }));
      }
      return query();
    });
  }

  private mutate<T>(change: (db: Database) => { changed: boolean; value: T }): Promise<T> {
    return this.serialize(() => this.saveUnderLock(change));
  }

  /**
   * Loads the file if it differs from the copy in memory. A damaged file is reported and the
   * memory copy left as it was; a missing file reads as an empty history.
   */
  private async syncFromDisk(): Promise<{ ok: true } | { ok: false; reason: string; busy?: true }> {
    const current = await fileFingerprint(this.filePath);
    if (this.loaded && !this.diverged && current === this.fingerprint) {
      return { ok: true };
    }
    const snapshot = await readDatabaseFile(this.filePath);
    if (snapshot.kind === 'busy') {
      return { ok: false, busy: true, reason: 'it kept changing while it was read' };
    }
    if (snapshot.kind === 'missing') {
      this.replaceDatabase(new this.sql.Database(), undefined);
    } else {
      const opened = openDatabaseImage(this.sql, snapshot.bytes);
      if (!opened.ok) {
        return opened;
      }
      this.replaceDatabase(opened.db, snapshot.fingerprint);
    }
    // Reading an older file only needs its columns in memory; the file is upgraded on the next write.
    if (schemaVersionOf(this.db) < HISTORY_SCHEMA_VERSION) {
      migrateHistory(this.db, this.filePath);
      this.migratedInMemory = true;
    }
    return { ok: true };
  }

  /**
   * The only path that writes: lock, bring the copy up to date with the disk (moving a damaged
   * file aside), apply the change, save atomically, unlock.
   */
  private async saveUnderLock<T>(change: (db: Database) => { changed: boolean; value: T }): Promise<T> {
    const lock = await acquireFileLock(this.lockPath, this.options.lock);
    let warning: HistoryWarning | undefined;
    try {
      await removeAbandonedTempFiles(this.filePath);
      const state = await this.syncFromDisk();
      if (!state.ok && state.busy) {
        throw new Error(`The history file ${this.filePath} changed while this process held its lock ${this.lockPath}`);
      }
      if (!state.ok) {
        warning = await this.moveAsideAndRecover(state.reason);
      }
      const mustSave = this.fingerprint === undefined || this.migratedInMemory;
      // Refuses to write a file from a newer version, whose extra columns we would not maintain.
      migrateHistory(this.db, this.filePath);
      this.diverged = true;
      const result = change(this.db);
      if (mustSave || result.changed) {
        this.fingerprint = await writeFileAtomically(this.filePath, this.db.export(), {
          beforeCommit: async () => {
            if (!(await lock.isStillHeld())) {
              throw new HistoryLockLostError(this.lockPath);
            }
          },
        });
        this.migratedInMemory = false;
      }
      this.diverged = false;
      return result.value;
    } finally {
      await lock.release();
      // Told even if the save failed: the damaged file has been renamed either way.
      if (warning !== undefined) {
        this.options.onWarning?.(warning);
      }
    }
  }

  /** Keeps the damaged bytes under a new name and continues from the last good copy we read. */
  private async moveAsideAndRecover(reason: string): Promise<HistoryWarning> {
    const movedTo = await moveCorruptFileAside(this.filePath, new Date());
    const trustworthy = this.loaded && !this.diverged && schemaVersionOf(this.db) <= HISTORY_SCHEMA_VERSION;
    this.replaceDatabase(trustworthy ? this.db : new this.sql.Database(), undefined);
    migrateHistory(this.db, this.filePath);
    const rowsKept = Number(this.db.exec('SELECT count(*) FROM backup_history')[0]!.values[0]![0]);
    return {
      kind: 'corrupt-file-moved-aside',
      filePath: this.filePath,
      movedTo,
      reason,
      rowsKept,
      message:
        `The history file ${this.filePath} was damaged (${reason}). It was moved to ${movedTo} and ` +
        (rowsKept === 0
          ? 'a new, empty history was started.'
          : `a new history was started from the ${rowsKept} records read before the damage.`),
    };
  }

  private replaceDatabase(db: Database, fingerprint: string | undefined): void {
    if (db !== this.db) {
      this.db.close();
      this.db = db;
    }
    this.loaded = true;
    this.fingerprint = fingerprint;
    this.diverged = false;
    this.migratedInMemory = false;
  }

  private selectRecords(sql: string, params: SqlValue[]): HistoryRecord[] {
    const statement = this.db.prepare(sql, params);
    try {
      const records: HistoryRecord[] = [];
      while (statement.step()) {
        records.push(recordFromRow(statement.getAsObject()));
      }
      return records;
    } finally {
      statement.free();
    }
  }
}
