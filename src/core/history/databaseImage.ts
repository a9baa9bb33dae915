import type { Database, SqlJsStatic } from 'sql.js';

export type OpenedImage =
  | { readonly ok: true; readonly db: Database }
  | { readonly ok: false; readonly reason: string };

const SQLITE_MAGIC = 'SQLite format 3\0';
const SQLITE_HEADER_BYTES = 100;

/**
 * Loads file bytes into an in-memory database and checks them. An empty file counts as a new
 * database because the runbook's setup creates one with `touch`. `quick_check` catches damaged
 * pages and indexes at a fraction of `integrity_check`'s cost on a large history.
 */
export function openDatabaseImage(SQL: SqlJsStatic, bytes: Uint8Array): OpenedImage {
  if (bytes.length === 0) {
    return { ok: true, db: new SQL.Database() };
  }
  const magic = new TextDecoder('latin1').decode(bytes.subarray(0, SQLITE_MAGIC.length));
  if (bytes.length < SQLITE_HEADER_BYTES || magic !== SQLITE_MAGIC) {
    return { ok: false, reason: 'it is not an SQLite database (its header is missing)' };
  }
  let db: Database | undefined;
  try {
    // sql.js copies the bytes with `slice()`, which on a Node Buffer shares memory instead: the
    // database would then write into the caller's `bytes`.
    db = new SQL.Database(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const lines = (db.exec('PRAGMA quick_check')[0]?.values ?? []).map((row) => String(row[0]));
    if (lines.length === 1 && lines[0] === 'ok') {
      return { ok: true, db };
    }
    db.close();
    return { ok: false, reason: `PRAGMA quick_check reported: ${lines.slice(0, 3).join('; ')}` };
  } catch (error) {
    db?.close();
    return { ok: false, reason: `SQLite cannot read it: ${(error as Error).message}` };
  }
}
