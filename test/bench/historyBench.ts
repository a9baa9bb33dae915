// Times the history store on a large file: `npx tsx test/bench/historyBench.ts [rows]`.
// Prints figures only; it asserts nothing, so it is not part of the test run.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import initSqlJs from 'sql.js';
import { writeFileAtomically } from '../../src/core/history/databaseFile';
import { migrateHistory } from '../../src/core/history/historyMigrations';
import { HistoryStore } from '../../src/core/history/historyStore';

const ROWS = Number(process.argv[2] ?? 100_000);

/** Fills a file directly with sql.js in one transaction; appending one by one would take hours. */
async function writeLargeHistory(dbPath: string): Promise<void> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  migrateHistory(db, dbPath);
  const insert = db.prepare(
    `INSERT INTO backup_history (run_id, operation, context, namespace, pvc_name, status, stage, message, next_step,
       created_at, finished_at, duration_ms, size_bytes, checksum, backup_path)
     VALUES (?, 'backup', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const start = Date.parse('2024-01-01T00:00:00.000Z');
  db.run('BEGIN');
  for (let i = 0; i < ROWS; i++) {
    const failed = i % 17 === 0;
    const createdAt = new Date(start + i * 60_000);
    const namespace = `team-${i % 40}`;
    const pvc = `data-${i % 300}`;
    insert.run([
      `run-${Math.floor(i / 8)}`,
      i % 3 === 0 ? 'prod-eu' : 'dev',
      namespace,
      pvc,
      failed ? 'failed' : 'success',
      failed ? 'wait' : null,
      failed ? 'wait stage failed: helper pod did not become ready within 120 s' : 'Archive verified',
      failed ? 'Inspect the helper pod events or raise NKVM_HELPER_POD_TIMEOUT_SECONDS' : null,
      createdAt.toISOString(),
      new Date(createdAt.getTime() + 42_000).toISOString(),
      42_000,
      failed ? null : 1_000_000 + i,
      failed ? null : (i * 2654435761).toString(16).padStart(64, '0').slice(-64),
      failed ? null : `/var/lib/nkvm/backups/${namespace}/${pvc}-${createdAt.toISOString().replace(/[-:.]/g, '')}.tar.gz`,
    ]);
  }
  db.run('COMMIT');
  insert.free();
  await writeFile(dbPath, db.export(), { mode: 0o600 });
  db.close();
}

/**
 * The same append without the store around it: insert, export, write a temp file, fsync, rename,
 * fsync the folder. Run on a copy in the same process, so the difference is the store's own cost
 * (the lock, the check that the file did not change, the migration check).
 */
async function wholeFileSaveMs(source: string, copy: string): Promise<number> {
  const SQL = await initSqlJs();
  const db = new SQL.Database(new Uint8Array(await readFile(source)));
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    const started = performance.now();
    db.run(`INSERT INTO backup_history (operation, namespace, pvc_name, status, created_at) VALUES ('backup', 'team-1', 'data-1', 'success', ?)`, [
      new Date().toISOString(),
    ]);
    await writeFileAtomically(copy, db.export());
    times.push(performance.now() - started);
  }
  db.close();
  return median(times);
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'nkvm-bench-'));
  const dbPath = path.join(root, 'backups.db');
  try {
    const [, fillMs] = await timed(() => writeLargeHistory(dbPath));
    const sizeMb = (await stat(dbPath)).size / 1024 / 1024;
    const figures: [string, number][] = [];

    const [store, coldOpenMs] = await timed(() => HistoryStore.open(dbPath));
    figures.push(['open, first in process (loads sql.js)', coldOpenMs]);
    const [other, warmOpenMs] = await timed(() => HistoryStore.open(dbPath));
    figures.push(['open, sql.js already loaded', warmOpenMs]);

    const appendMs: number[] = [];
    for (let i = 0; i < 10; i++) {
      const [, ms] = await timed(() => store.append({ context: 'dev', namespace: 'team-1', pvcName: 'data-1', status: 'success' }));
      appendMs.push(ms);
    }
    figures.push(['append one record (median of 10)', median(appendMs)]);
    figures.push(['reference: same save without the store (median of 10)', await wholeFileSaveMs(dbPath, path.join(root, 'whole.db'))]);

    const latestMs: number[] = [];
    for (let i = 0; i < 20; i++) {
      latestMs.push((await timed(() => store.latest({ limit: 50 })))[1]);
    }
    figures.push(['latest({ limit: 50 }) (median of 20)', median(latestMs)]);
    figures.push([
      'latest 50 for one PVC',
      (await timed(() => store.forPvc('prod-eu', 'team-3', 'data-3', 50)))[1],
    ]);
    // What a second window pays when the first one has just written: reload, then read or write.
    await store.append({ namespace: 'team-2', pvcName: 'data-2', status: 'success' });
    figures.push(['latest 50 after another store wrote (reload)', (await timed(() => other.latest({ limit: 50 })))[1]]);
    await store.append({ namespace: 'team-2', pvcName: 'data-2', status: 'success' });
    figures.push([
      'append after another store wrote (reload + write)',
      (await timed(() => other.append({ namespace: 'team-2', pvcName: 'data-2', status: 'success' })))[1],
    ]);

    console.log(`history with ${ROWS} rows, ${sizeMb.toFixed(1)} MiB on disk (filled in ${(fillMs / 1000).toFixed(1)} s)`);
    for (const [label, ms] of figures) {
      console.log(`${label.padEnd(55)} ${ms.toFixed(1).padStart(8)} ms`);
    }
    await store.close();
    await other.close();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
