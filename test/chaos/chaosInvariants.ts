import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What the chaos run must leave behind: nothing broken, nothing running, nothing stale. */
export interface ChaosFindings {
  historyIntegrity: string;
  successRows: number;
  successRowsWithBadArchive: string[];
  finalArchives: number;
  brokenArchives: string[];
  helpersRunning: string[];
  stalePartials: string[];
  rowsStuckRunning: number;
  /** The rows left running, with their owner, for the failure message. */
  stuckRows: string[];
  interruptedRows: number;
}

interface HistoryRow {
  id: number;
  operation: string | null;
  status: string;
  backup_path: string | null;
  checksum: string | null;
}

/** Reads the history with the sqlite3 command line, as a user checking by hand would. */
export function historyRows(dbPath: string): HistoryRow[] {
  if (!existsSync(dbPath)) return [];
  const out = execFileSync('sqlite3', ['-json', dbPath, 'SELECT id, operation, status, backup_path, checksum FROM backup_history'], { encoding: 'utf8' });
  return out.trim() ? (JSON.parse(out) as HistoryRow[]) : [];
}

export function historyIntegrity(dbPath: string): string {
  if (!existsSync(dbPath)) return 'no history file';
  return execFileSync('sqlite3', [dbPath, 'PRAGMA integrity_check'], { encoding: 'utf8' }).trim();
}

export async function helperPodsNotEnded(kubeConfig: KubeConfig): Promise<string[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const pods = await core.listPodForAllNamespaces({ labelSelector: 'app.kubernetes.io/component=backup-helper' });
  return pods.items
    .filter((p) => p.status?.phase === 'Running' || p.status?.phase === 'Pending')
    .map((p) => `${p.metadata!.namespace}/${p.metadata!.name} (${p.status?.phase}${p.metadata?.deletionTimestamp ? ', Terminating' : ''})`);
}

/** Every file in the backup folder, recursively. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

/** Files a crashed run left unfinished: `.partial` archives and anything that marks their owner. */
export function partialFiles(backupDir: string): string[] {
  return filesUnder(backupDir).filter((path) => /\.partial(\.|$)/.test(path));
}

/** Archives under a final name must be whole: gzip's own check, then tar to the end. */
export function brokenFinalArchives(backupDir: string): { count: number; broken: string[] } {
  const finals = filesUnder(backupDir).filter((path) => /\.tar(\.gz)?$/.test(path));
  const broken: string[] = [];
  for (const path of finals) {
    if (path.endsWith('.gz')) {
      const gz = spawnSync('gzip', ['-t', path], { encoding: 'utf8' });
      if (gz.status !== 0) {
        broken.push(`${path}: gzip -t: ${gz.stderr.trim()}`);
        continue;
      }
    }
    const tar = spawnSync('tar', [path.endsWith('.gz') ? '-tzf' : '-tf', path], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    if (tar.status !== 0) broken.push(`${path}: tar: ${tar.stderr.trim().split('\n').slice(-1)[0]}`);
  }
  return { count: finals.length, broken };
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function checkChaosInvariants(options: { dbPath: string; backupDir: string; kubeConfig: KubeConfig }): Promise<ChaosFindings> {
  const rows = historyRows(options.dbPath);
  const successes = rows.filter((r) => (r.operation ?? 'backup') === 'backup' && r.status === 'success');
  const badArchive: string[] = [];
  for (const row of successes) {
    if (!row.backup_path || !existsSync(row.backup_path)) badArchive.push(`row ${row.id}: archive missing (${row.backup_path})`);
    else if (!row.checksum) badArchive.push(`row ${row.id}: no checksum`);
    else if ((await sha256Of(row.backup_path)) !== row.checksum) badArchive.push(`row ${row.id}: checksum differs for ${row.backup_path}`);
  }
  const archives = brokenFinalArchives(options.backupDir);
  return {
    historyIntegrity: historyIntegrity(options.dbPath),
    successRows: successes.length,
    successRowsWithBadArchive: badArchive,
    finalArchives: archives.count,
    brokenArchives: archives.broken,
    helpersRunning: await helperPodsNotEnded(options.kubeConfig),
    stalePartials: partialFiles(options.backupDir),
    rowsStuckRunning: rows.filter((r) => r.status === 'running').length,
    stuckRows: stuckRowDetails(options.dbPath),
    interruptedRows: rows.filter((r) => r.status === 'interrupted').length,
  };
}

function stuckRowDetails(dbPath: string): string[] {
  if (!existsSync(dbPath)) return [];
  const sql = "SELECT id, run_id, operation, pvc_name, stage, created_at, owner FROM backup_history WHERE status = 'running'";
  const out = execFileSync('sqlite3', ['-json', dbPath, sql], { encoding: 'utf8' }).trim();
  return out ? (JSON.parse(out) as object[]).map((row) => JSON.stringify(row)) : [];
}
