import * as path from 'node:path';
import type { HistoryRecord } from '../core/history/historyRecord';
import { resolveHelperSettings } from '../core/config/helperSettings';
import { HistoryStore } from '../core/history/historyStore';
import { formatBytes } from '../core/report/quantityText';
import { runRestore } from '../core/restore/restoreRun';
import type { RestoreResult } from '../core/restore/restoreVolume';
import { UsageError } from './backupCommand';
import { cliKubeConfig, cliSettings, helperWarning } from './cliSettings';

export interface RestoreCommandOptions {
  /** A history id (a successful backup) or an archive path. */
  source: string | undefined;
  /** `<namespace>/<pvc>` */
  to: string | undefined;
  context?: string;
  newClaim: boolean;
  size?: string;
  storageClass?: string;
  emptyFirst: boolean;
  paths: string[];
  allowInUseOnNode: boolean;
  /** Run the helper as root for this restore. */
  asRoot?: boolean;
  json: boolean;
  /** Aborted on SIGINT/SIGTERM (see main): the helper is deleted. */
  signal?: AbortSignal;
}

/** `nkvm restore <history-id|archive> --to ns/pvc`: exit code 0 only when the restore was verified. */
export async function restoreCommand(options: RestoreCommandOptions, out: NodeJS.WriteStream, err: NodeJS.WriteStream): Promise<number> {
  if (!options.source) throw new UsageError('name a backup: nkvm restore <history-id|archive> --to <namespace>/<pvc>');
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(options.to ?? '');
  if (!m) throw new UsageError(`--to takes <namespace>/<pvc>, got "${options.to ?? ''}"`);
  if (!options.newClaim && (options.size || options.storageClass)) throw new UsageError('--size and --storage-class go with --new-claim');
  // NKVM_HELPER_* (pull secrets, resources, tolerations, node selector, root) shape the helper as for backups.
  const settings = { ...cliSettings(), helperPod: resolveHelperSettings({}, process.env), onHelperProblem: helperWarning(err) };
  const { kubeConfig, context } = cliKubeConfig(options.context);
  const history = await HistoryStore.open(settings.metadataDbPath, { onWarning: (w) => err.write(`warning: ${w.message}\n`) });
  const live = err.isTTY && !options.json;
  let lastLine = 0;
  try {
    const backup = await findBackup(history, options.source);
    const request = {
      // An incremental backup restores through its chain (runRestore resolves it from `backup`).
      archivePath: backup?.backupPath ?? path.resolve(options.source),
      expectedSha256: backup?.checksum ?? undefined,
      target: { context, namespace: m[1], pvc: m[2] },
      createClaim: options.newClaim ? { storage: options.size, storageClassName: options.storageClass } : undefined,
      emptyFirst: options.emptyFirst,
      paths: options.paths,
      allowInUseOnNode: options.allowInUseOnNode,
      runAsRoot: options.asRoot || undefined,
    };
    const result = await runRestore(kubeConfig, request, {
      // A new claim like the one backed up, when that claim can still be read and no size is given.
      likeClaim: options.newClaim && backup && (backup.context === null || backup.context === context) ? { namespace: backup.namespace, pvc: backup.pvcName } : undefined,
      settings,
      history,
      backup,
      signal: options.signal,
      onProgress: (p) => {
        if (!live || Date.now() - lastLine < 500) return;
        lastLine = Date.now();
        err.write(`${p.namespace}/${p.pvc}: ${p.stage} ${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)} at ${formatBytes(p.bytesPerSecond)}/s\n`);
      },
      onHistoryError: (e) => err.write(`warning: could not record the restore in the history: ${e.message}\n`),
    });
    out.write(options.json ? JSON.stringify(result, null, 2) + '\n' : describeResult(result));
    return result.status === 'success' ? 0 : 1;
  } finally {
    await history.close();
  }
}

/** The backup named by id, or the one whose archive is this path; undefined for an unknown path. */
async function findBackup(history: HistoryStore, source: string): Promise<HistoryRecord | undefined> {
  if (/^\d+$/.test(source)) {
    const record = await history.get(Number(source));
    if (!record || record.operation !== 'backup') throw new Error(`no backup #${source} in the history`);
    if (!record.backupPath || record.status !== 'success') throw new Error(`backup #${source} has no complete archive to restore (${record.status})`);
    return record;
  }
  const wanted = path.resolve(source);
  return (await history.latest({ operation: 'backup', status: 'success', limit: 10000 })).find((r) => r.backupPath !== null && path.resolve(r.backupPath) === wanted);
}

function describeResult(r: RestoreResult): string {
  const name = `${r.namespace}/${r.pvc}`;
  if (r.status === 'success') {
    const through = r.chainArchives ? ` (through its chain of ${r.chainArchives} archives)` : '';
    const lines = [`ok  ${name}  ${r.files} files, ${formatBytes(r.bytes)} in ${(r.durationMs / 1000).toFixed(1)} s  from ${r.archivePath}${through}`];
    if (r.claimCreated) lines.push('    created the claim');
    for (const w of r.warnings.slice(0, 5)) lines.push(`    warning: ${w}`);
    if (r.warnings.length > 5) lines.push(`    ... ${r.warnings.length - 5} more warnings (--json lists them)`);
    if (r.nextStep) lines.push(`    ${r.message}`, `    next step: ${r.nextStep}`);
    return lines.join('\n') + '\n';
  }
  const lines = [`${r.status === 'cancelled' ? 'CANCELLED' : 'FAILED'}  ${name}  ${r.message}`];
  if (r.nextStep) lines.push(`    next step: ${r.nextStep}`);
  for (const e of r.evidence.slice(-5)) lines.push(`    event: ${e}`);
  return lines.join('\n') + '\n';
}
