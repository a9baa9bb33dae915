import * as path from 'node:path';
import { verifyArchive, verifyBackup, type VerifyResult } from '../core/archive/verifyArchive';
import { HistoryStore } from '../core/history/historyStore';
import { UsageError } from './backupCommand';
import { cliSettings } from './cliSettings';

/**
 * `nkvm verify <history-id|archive>`: reads the archive to the end and checks its checksum. A backup
 * from the history (by id, or by its archive path) gets the outcome saved on its row.
 */
export async function verifyCommand(options: { target: string | undefined; json: boolean; signal?: AbortSignal }, out: NodeJS.WriteStream, err: NodeJS.WriteStream): Promise<number> {
  const target = options.target;
  if (target === undefined) throw new UsageError('name a backup: nkvm verify <history-id|archive>');
  const history = await HistoryStore.open(cliSettings().metadataDbPath, { onWarning: (w) => err.write(`warning: ${w.message}\n`) });
  try {
    let result: VerifyResult;
    let label: string;
    if (/^\d+$/.test(target)) {
      const record = await history.get(Number(target));
      if (record === undefined) throw new Error(`no backup #${target} in the history`);
      label = `#${record.id} ${record.namespace}/${record.pvcName}`;
      result = await verifyBackup(history, record, { signal: options.signal });
    } else {
      const archivePath = path.resolve(target);
      const record = (await history.archivedBackups()).find((r) => r.backupPath !== null && path.resolve(r.backupPath) === archivePath);
      label = record === undefined ? archivePath : `#${record.id} ${record.namespace}/${record.pvcName}`;
      result =
        record === undefined
          ? await verifyArchive(archivePath, {}, { signal: options.signal })
          : await verifyBackup(history, record, { signal: options.signal });
    }
    if (options.json) out.write(JSON.stringify({ target: label, ...result }, null, 2) + '\n');
    else out.write(`${label}: ${result.outcome}: ${result.message}\n`);
    return result.outcome === 'ok' ? 0 : 1;
  } finally {
    await history.close();
  }
}
