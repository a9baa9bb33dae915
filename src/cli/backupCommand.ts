import { runBackups } from '../core/backup/backupRun';
import type { BackupProgress, BackupResult } from '../core/backup/backupVolume';
import { resolveArchiveSettings } from '../core/config/archiveSettings';
import { resolveHelperSettings } from '../core/config/helperSettings';
import { HistoryStore } from '../core/history/historyStore';
import { formatBytes } from '../core/report/quantityText';
import { backupProgressText } from '../core/report/backupProgressText';
import { cliKubeConfig, cliSettings, helperWarning } from './cliSettings';

import { describeHookRun } from '../core/hooks/hookRun';
import { resolveBackupHookSettings } from '../core/config/backupHookSettings';
import type { ConsistencyMode } from '../core/snapshot/consistencyMode';
import type { StreamCount } from '../core/backup/streamPlan';

export interface BackupCommandOptions {
  volumes: string[];
  context?: string;
  concurrency: number;
  /** --consistency: wins over NKVM_BACKUP_CONSISTENCY. */
  consistency?: ConsistencyMode;
  /** --full / --incremental: over NKVM_BACKUP_INCREMENTAL and NKVM_BACKUP_FULL_EVERY. */
  incremental?: 'full' | 'incremental';
  /** --streams: wins over NKVM_BACKUP_STREAMS. */
  streams?: StreamCount;
  json: boolean;
  /** Aborted on SIGINT/SIGTERM (see main): helpers are deleted, partial files removed. */
  signal?: AbortSignal;
}

/** `nkvm backup ns/pvc...`: exit code 0 only when every volume was backed up completely. */
export async function backupCommand(options: BackupCommandOptions, out: NodeJS.WriteStream, err: NodeJS.WriteStream): Promise<number> {
  const targets = options.volumes.map((v) => {
    const m = /^([^/\s]+)\/([^/\s]+)$/.exec(v);
    if (!m) throw new UsageError(`volumes are given as <namespace>/<pvc>, got "${v}"`);
    return { namespace: m[1], pvc: m[2] };
  });
  if (!targets.length) throw new UsageError('name at least one volume: nkvm backup <namespace>/<pvc>...');
  // NKVM_COMPRESSION, NKVM_COMPRESSION_LEVEL, NKVM_BACKUP_INCLUDE/EXCLUDE, NKVM_BACKUP_CONSISTENCY, NKVM_BACKUP_HOOKS and NKVM_HELPER_* join the common settings.
  const archive = resolveArchiveSettings({}, process.env);
  const settings = { ...cliSettings(), ...archive, consistency: options.consistency ?? archive.consistency, streams: options.streams ?? archive.streams, hooks: resolveBackupHookSettings(undefined, process.env), helperPod: resolveHelperSettings({}, process.env), onHelperProblem: helperWarning(err) };
  const { kubeConfig, context } = cliKubeConfig(options.context);
  const history = await HistoryStore.open(settings.metadataDbPath, { onWarning: (w) => err.write(`warning: ${w.message}\n`) });
  const live = err.isTTY && !options.json;
  const lastLine = new Map<string, number>();
  const lastStage = new Map<string, string>();
  try {
    const run = await runBackups(
      targets.map((t) => ({ ...t, context })),
      {
        kubeConfigFor: () => kubeConfig,
        settings,
        concurrency: options.concurrency,
        ...(options.incremental ? { incremental: options.incremental } : {}),
        history,
        signal: options.signal,
        onProgress: (p: BackupProgress) => {
          const key = `${p.namespace}/${p.pvc}`;
          // A new stage always gets its line; bytes of the same stage at most twice a second.
          if (!live || (lastStage.get(key) === p.stage && Date.now() - (lastLine.get(key) ?? 0) < 500)) return;
          lastLine.set(key, Date.now());
          lastStage.set(key, p.stage);
          err.write(`${key}: ${backupProgressText(p)}\n`);
        },
        onResult: (r) => {
          if (!options.json) out.write(describeResult(r));
        },
        onHistoryError: (e, r) => err.write(`warning: could not record ${r.namespace}/${r.pvc} in the history: ${e.message}\n`),
      },
    );
    // The listing each backup records goes to the history, not to the output (it holds every file's name).
    if (options.json) out.write(JSON.stringify({ runId: run.runId, results: run.results.map(jsonResult) }, null, 2) + '\n');
    else out.write(summary(run.results) + '\n');
    return run.results.every((r) => r.status === 'success') ? 0 : 1;
  } finally {
    await history.close();
  }
}

/** A result as `--json` prints it: the kind, the base and what was sent and found, without the digests (they go to the history). */
function jsonResult(r: BackupResult) {
  const { digests: _digests, increment: counts, ...rest } = r;
  return {
    ...rest,
    kind: r.kind ?? 'full',
    baseId: r.baseId ?? null,
    sentBytes: r.sizeBytes ?? null,
    ...(counts
      ? { changed: counts.changed + counts.added + counts.typeChanged, unchanged: counts.unchanged, deleted: counts.deleted, increment: counts }
      : {}),
  };
}

function describeResult(r: BackupResult): string {
  const name = `${r.namespace}/${r.pvc}`;
  if (r.status === 'success' || r.status === 'partial') {
    const lines = [`${r.status === 'success' ? 'ok' : 'PARTIAL'}  ${name}  ${formatBytes(r.sizeBytes)} in ${(r.durationMs / 1000).toFixed(1)} s  ${r.archivePath}`, `    sha256 ${r.checksum}`];
    const counts = r.increment;
    if (counts) lines.push(`    incremental on backup #${r.baseId}: ${counts.changed + counts.added + counts.typeChanged} changed, ${counts.unchanged} unchanged, ${counts.deleted} deleted`);
    else if (r.fullBecause) lines.push(`    full: ${r.fullBecause}`);
    if (r.streams) lines.push(`    in parts over ${r.streams} ${r.streams === 1 ? 'stream' : 'streams'}${r.resentBytes ? `; ${formatBytes(r.resentBytes)} sent again after broken streams` : ''}`);
    if (r.consistency === 'snapshot') lines.push(`    point in time: VolumeSnapshot ${r.snapshotName} taken ${r.snapshotAt ?? ''}`.trimEnd());
    else if (r.consistencyNote) lines.push(`    read live: ${r.consistencyNote}`);
    for (const h of r.hooks ?? []) lines.push(`    ${describeHookRun(h)}`);
    if (r.status === 'partial' || r.nextStep) lines.push(`    ${r.message}`, ...(r.nextStep ? [`    next step: ${r.nextStep}`] : []));
    return lines.join('\n') + '\n';
  }
  const lines = [`${r.status === 'cancelled' ? 'CANCELLED' : 'FAILED'}  ${name}  ${r.message}`];
  if (r.nextStep) lines.push(`    next step: ${r.nextStep}`);
  for (const h of r.hooks ?? []) lines.push(`    ${describeHookRun(h)}`);
  for (const e of r.evidence.slice(-5)) lines.push(`    event: ${e}`);
  return lines.join('\n') + '\n';
}

function summary(results: BackupResult[]): string {
  const count = (s: string) => results.filter((r) => r.status === s).length;
  const parts = [`${count('success')} backed up`];
  for (const s of ['partial', 'failed', 'cancelled']) if (count(s)) parts.push(`${count(s)} ${s}`);
  return parts.join(', ');
}

export class UsageError extends Error {}
