import { HistoryStore } from '../core/history/historyStore';
import { cliSettings } from './cliSettings';
import { formatBytes } from '../core/report/quantityText';
import { table } from './cliOutput';

export async function historyCommand(options: { limit: number; json: boolean }, out: NodeJS.WriteStream, err: NodeJS.WriteStream): Promise<number> {
  const settings = cliSettings();
  const history = await HistoryStore.open(settings.metadataDbPath, { onWarning: (w) => err.write(`warning: ${w.message}\n`) });
  try {
    const rows = await history.latest({ limit: options.limit });
    if (options.json) out.write(JSON.stringify(rows, null, 2) + '\n');
    else out.write(table(['CREATED', 'NAMESPACE', 'PVC', 'STATUS', 'SIZE', 'ARCHIVE'], rows.map((r) => [r.createdAt, r.namespace, r.pvcName, r.status, formatBytes(r.sizeBytes), r.backupPath ?? r.message ?? '-'])));
    return 0;
  } finally {
    await history.close();
  }
}
