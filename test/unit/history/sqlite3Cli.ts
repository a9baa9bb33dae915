import { execFileSync, spawnSync } from 'node:child_process';

/** The runbook checks the history with the real `sqlite3` binary, so the tests do too. */
export const sqlite3Available = spawnSync('sqlite3', ['-version'], { encoding: 'utf8' }).status === 0;

export const RUNBOOK_HISTORY_QUERY =
  'SELECT namespace,pvc_name,status,created_at,backup_path FROM backup_history ORDER BY created_at DESC, id DESC LIMIT 20;';

/** Runs one statement with the `sqlite3` CLI and returns its `|`-separated output lines. */
export function sqlite3Lines(dbPath: string, sql: string): string[] {
  const output = execFileSync('sqlite3', [dbPath, sql], { encoding: 'utf8' });
  return output.split('\n').filter((line) => line !== '');
}

/** `it`, or a skipped test whose title says why when the binary is missing. */
export function itWithSqlite3(title: string, test: () => Promise<void>): void {
  if (sqlite3Available) {
    it(title, test);
  } else {
    it.skip(`${title} (skipped: the sqlite3 command is not installed)`, test);
  }
}
