import { resolveArchiveSettings } from '../core/config/archiveSettings';
import { HistoryStore } from '../core/history/historyStore';
import { consolidateBackup } from '../core/incremental/consolidateBackup';
import { UsageError } from './backupCommand';
import { cliSettings } from './cliSettings';

/**
 * `nkvm consolidate <history-id>`: merges an incremental backup's chain into one new full archive beside it,
 * locally (no cluster), and records it as a new full backup of the same volume and time.
 */
export async function consolidateCommand(
  options: { target: string | undefined; json: boolean; signal?: AbortSignal },
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const target = options.target;
  if (target === undefined || !/^\d+$/.test(target)) {
    throw new UsageError('name an incremental backup by its history id: nkvm consolidate <history-id>');
  }
  const settings = cliSettings();
  const archive = resolveArchiveSettings({}, process.env);
  const history = await HistoryStore.open(settings.metadataDbPath, { onWarning: (w) => err.write(`warning: ${w.message}\n`) });
  try {
    const result = await consolidateBackup(history, Number(target), {
      compression: archive.compression === 'none' ? 'none' : 'gzip',
      level: archive.compressionLevel,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    for (const warning of result.warnings) err.write(`warning: ${warning}\n`);
    const { record } = result;
    if (options.json) {
      out.write(JSON.stringify({ consolidated: Number(target), from: result.from, record, warnings: result.warnings }, null, 2) + '\n');
    } else {
      const from = result.from.map((id) => `#${id}`).join(', ');
      out.write(`#${record.id} ${record.namespace}/${record.pvcName}: full backup consolidated from ${from}\n`);
      out.write(`  ${record.backupPath} (${record.sizeBytes} bytes, sha256 ${record.checksum})\n`);
    }
    return 0;
  } finally {
    await history.close();
  }
}
