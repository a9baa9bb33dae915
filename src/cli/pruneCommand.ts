import { HistoryStore } from '../core/history/historyStore';
import { formatBytes } from '../core/report/quantityText';
import { applyRetention } from '../core/retention/applyRetention';
import { planRetention } from '../core/retention/planRetention';
import { table } from './cliOutput';
import { cliSettings } from './cliSettings';

/** `nkvm prune`: applies NKVM_RETENTION_KEEP_LAST / NKVM_RETENTION_MAX_AGE_DAYS; exit 1 if a deletion failed. */
export async function pruneCommand(options: { dryRun: boolean; json: boolean }, out: NodeJS.WriteStream, err: NodeJS.WriteStream): Promise<number> {
  const settings = cliSettings();
  const policy = { keepLast: settings.retentionKeepLast, maxAgeDays: settings.retentionMaxAgeDays };
  const history = await HistoryStore.open(settings.metadataDbPath, { onWarning: (w) => err.write(`warning: ${w.message}\n`) });
  try {
    const plan = planRetention(await history.archivedBackups(), policy, new Date());
    const rows = plan.decisions.filter((d) => d.action === 'prune');
    if (options.dryRun) {
      if (options.json) out.write(JSON.stringify({ policy, prune: rows.map((d) => ({ id: d.record.id, archivePath: d.record.backupPath, reason: d.reason })) }, null, 2) + '\n');
      else if (rows.length === 0) out.write(`Nothing to prune (keep last ${policy.keepLast || 'all'}, max age ${policy.maxAgeDays || 'unlimited'} days).\n`);
      else out.write(table(['ID', 'CREATED', 'VOLUME', 'REASON', 'ARCHIVE'], rows.map((d) => [String(d.record.id), d.record.createdAt, `${d.record.namespace}/${d.record.pvcName}`, d.reason, d.record.backupPath ?? '-'])));
      return 0;
    }
    const result = await applyRetention(history, plan);
    if (options.json) out.write(JSON.stringify({ policy, ...result }, null, 2) + '\n');
    else {
      const freed = result.pruned.reduce((sum, p) => sum + p.freedBytes, 0);
      out.write(`Pruned ${result.pruned.length} archive(s), freed ${formatBytes(freed)}.\n`);
      for (const failure of result.failed) err.write(`could not prune #${failure.id} ${failure.archivePath}: ${failure.error}\n`);
    }
    return result.failed.length === 0 ? 0 : 1;
  } finally {
    await history.close();
  }
}
