import { HistoryStore } from '../core/history/historyStore';
import { cliSettings } from './cliSettings';
import { statusInWords } from '../core/report/outcomeText';
import { formatBytes } from '../core/report/quantityText';
import { table } from './cliOutput';
import { backupChecksText } from '../core/drill/checksText';

export async function historyCommand(options: { limit: number; json: boolean }, out: NodeJS.WriteStream, err: NodeJS.WriteStream): Promise<number> {
  const settings = cliSettings();
  const history = await HistoryStore.open(settings.metadataDbPath, { onWarning: (w) => err.write(`warning: ${w.message}\n`) });
  try {
    // Rows left `running` by a process that was killed are shown as what they are.
    await history.markInterruptedRows().catch((e: unknown) => err.write(`warning: could not mark interrupted rows: ${(e as Error).message}\n`));
    const rows = await history.latest({ limit: options.limit });
    if (options.json) out.write(JSON.stringify(rows, null, 2) + '\n');
    else
      out.write(
        table(
          ['ID', 'CREATED', 'NAMESPACE', 'PVC', 'STATUS', 'SIZE', 'KIND', 'CHECKS', 'ARCHIVE'],
          rows.map((r) => [
            String(r.id),
            r.createdAt,
            r.namespace,
            r.pvcName,
            statusInWords(r.status, r.stage),
            formatBytes(r.sizeBytes),
            // The id is what `nkvm restore`, `verify`, `drill` and `consolidate` take; an incremental backup's size is what it sent.
            r.operation === 'restore' ? 'restore' : r.kind === 'incremental' ? `incr. on #${r.baseId}` : 'full',
            backupChecksText(r),
            r.backupPath ?? r.message ?? '-',
          ]),
        ),
      );
    return 0;
  } finally {
    await history.close();
  }
}
