import * as path from 'node:path';
import { resolveHelperSettings } from '../core/config/helperSettings';
import { drillNamespace, runRestoreDrill, type DrillResult } from '../core/drill/restoreDrill';
import type { HistoryRecord } from '../core/history/historyRecord';
import { HistoryStore } from '../core/history/historyStore';
import { UsageError } from './backupCommand';
import { cliKubeConfig, cliSettings, helperWarning } from './cliSettings';

export interface DrillCommandOptions {
  /** A history id or an archive path. */
  source: string | undefined;
  namespace?: string;
  storageClass?: string;
  context?: string;
  json: boolean;
  signal?: AbortSignal;
}

/** `nkvm drill <history-id|archive>`: exit code 0 only when every restored file matches. */
export async function drillCommand(options: DrillCommandOptions, out: NodeJS.WriteStream, err: NodeJS.WriteStream): Promise<number> {
  if (!options.source) throw new UsageError('name a backup: nkvm drill <history-id|archive> [--namespace N] [--storage-class SC]');
  const settings = { ...cliSettings(), helperPod: resolveHelperSettings({}, process.env), onHelperProblem: helperWarning(err) };
  const history = await HistoryStore.open(settings.metadataDbPath, { onWarning: (w) => err.write(`warning: ${w.message}\n`) });
  try {
    const backup = await findBackup(history, options.source);
    const namespace = drillNamespace(backup, options.namespace);
    if (!namespace) throw new UsageError('an archive outside the history needs --namespace N for the temporary claim');
    const { kubeConfig, context } = cliKubeConfig(options.context ?? backup?.context ?? undefined);
    const result = await runRestoreDrill(
      kubeConfig,
      { archivePath: backup?.backupPath ?? path.resolve(options.source), backup, context, namespace, storageClass: options.storageClass },
      { settings, history, signal: options.signal, onProgress: (p) => err.isTTY && !options.json && err.write(`drill: ${p.stage}\n`) },
    );
    out.write(options.json ? JSON.stringify(result, null, 2) + '\n' : describeDrill(result));
    return result.outcome === 'ok' ? 0 : 1;
  } finally {
    await history.close();
  }
}

async function findBackup(history: HistoryStore, source: string): Promise<HistoryRecord | undefined> {
  if (/^\d+$/.test(source)) {
    const record = await history.get(Number(source));
    if (!record || record.operation !== 'backup') throw new Error(`no backup #${source} in the history`);
    if (!record.backupPath || record.prunedAt) throw new Error(`backup #${source} has no archive to drill (${record.prunedAt ? 'pruned' : record.status})`);
    return record;
  }
  const wanted = path.resolve(source);
  return (await history.archivedBackups()).find((r) => r.backupPath !== null && path.resolve(r.backupPath) === wanted);
}

function describeDrill(r: DrillResult): string {
  const label = r.historyId !== undefined ? `#${r.historyId}` : r.archivePath;
  const head = { ok: 'ok', differs: 'DIFFERS', failed: 'FAILED', cancelled: 'CANCELLED' }[r.outcome];
  const lines = [`${head}  ${label}  drilled in namespace ${r.namespace}: ${r.message}`];
  for (const d of [...(r.archiveDifferences?.differences ?? []), ...(r.comparison?.differences ?? [])].slice(0, 20)) {
    lines.push(`    ${d.kind}  ${d.path}${d.expected !== undefined || d.found !== undefined ? `  expected ${d.expected ?? '-'}, found ${d.found ?? '-'}` : ''}`);
  }
  if (r.nextStep) lines.push(`    next step: ${r.nextStep}`);
  return lines.join('\n') + '\n';
}
