import { HistoryChainError, resolveHistoryChain } from '../history/historyChain';
import type { HistoryRecord } from '../history/historyRecord';
import type { HistoryStore } from '../history/historyStore';
import { BrokenChainError } from '../incremental/chainTree';
import { mergedChainStream } from '../incremental/mergedChainStream';
import { openChain } from '../incremental/openChain';
import { extractArchive, extractTar, type ExtractOptions, type ExtractResult } from './extractArchive';
import { normaliseEntryPath } from './entrySafety';

/**
 * Extracts a backup's files into a local folder, with extractArchive's safety rules. An incremental backup gives
 * the files as they were at that backup: its chain is checked, then read as one merged tar (deletions applied,
 * the newest version of each file), so nothing a later archive replaced or deleted is written. An empty `paths`
 * selects the whole backup, as leaving it out does.
 */
export async function extractBackup(
  history: HistoryStore,
  record: HistoryRecord,
  destDir: string,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  if (record.backupPath === null) throw new Error(`Backup #${record.id} has no archive to extract from.`);
  // No paths, or none, means the whole backup (the Explorer's root selects it so).
  const { paths: chosen, ...rest } = options;
  options = chosen?.length ? options : rest;
  if (record.kind !== 'incremental') return extractArchive(record.backupPath, destDir, options);
  let merged;
  try {
    const opened = await openChain(await resolveHistoryChain(history, record.id), options.signal);
    // Chain members are named by their bytes (latin1); the selection comes as the browser shows names (UTF-8).
    const paths = options.paths?.map((p) => Buffer.from(normaliseEntryPath(p), 'utf8').toString('latin1'));
    merged = mergedChainStream(opened, { ...(paths ? { paths } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    if (error instanceof BrokenChainError || error instanceof HistoryChainError) {
      throw new BrokenChainError(`Backup #${record.id} is incremental and is extracted through its whole chain: ${error.message}`);
    }
    throw error;
  }
  return extractTar(merged, `the chain of backup #${record.id}`, destDir, options);
}
