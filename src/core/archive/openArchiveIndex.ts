import { stat } from 'node:fs/promises';
import { HistoryChainError, resolveHistoryChain } from '../history/historyChain';
import type { HistoryRecord } from '../history/historyRecord';
import type { HistoryStore } from '../history/historyStore';
import { BrokenChainError } from '../incremental/chainTree';
import { buildArchiveIndex, type ArchiveIndex } from './archiveIndex';
import { decodeArchiveIndex, encodeArchiveIndex } from './archiveIndexCodec';
import { archiveHolding, buildChainIndex, chainUnchanged } from './chainArchiveIndex';

export interface OpenedArchiveIndex {
  readonly index: ArchiveIndex;
  readonly archivePath: string;
  /** The archive file that holds an entry: the backup's own, or for an incremental backup the one of its chain. */
  readonly archiveHolding: (path: string) => string;
  /** `cache` when the saved listing still matched the archive's size and mtime. */
  readonly source: 'cache' | 'built';
  /** Set when a fresh listing could not be saved (e.g. a read-only history); browsing still works. */
  readonly saveError?: Error;
}

/** The backup has no archive to open: never written, or deleted by retention. */
export class NoArchiveError extends Error {
  override readonly name = 'NoArchiveError';
  constructor(readonly historyId: number, reason: string) {
    super(`Backup #${historyId} has no archive: ${reason}`);
  }
}

/**
 * The listing of a backup's archive: the saved one when the file is unchanged since it was made,
 * else read from the archive and saved for next time. An incremental backup lists as the volume at that
 * backup, merged from its chain; its saved listing is used only while every archive of the chain is unchanged.
 */
export async function openArchiveIndex(
  history: HistoryStore,
  record: HistoryRecord,
  options: { signal?: AbortSignal } = {},
): Promise<OpenedArchiveIndex> {
  const archivePath = record.backupPath;
  if (archivePath === null) throw new NoArchiveError(record.id, 'none was written');
  if (record.prunedAt !== null) throw new NoArchiveError(record.id, `it was deleted by retention at ${record.prunedAt}`);
  if (record.kind === 'incremental') return openChainIndex(history, record, archivePath, options);
  const file = await stat(archivePath);
  const mtimeMs = Math.trunc(file.mtimeMs);

  const saved = await history.loadArchiveIndex(record.id);
  if (saved !== undefined && saved.archiveSize === file.size && saved.archiveMtimeMs === mtimeMs) {
    try {
      return opened(decodeArchiveIndex(saved.entries), archivePath, 'cache');
    } catch {
      // A listing saved by a newer format or damaged: read the archive again and overwrite it.
    }
  }
  return saveIndex(history, record, archivePath, await buildArchiveIndex(archivePath, options), { size: file.size, mtimeMs });
}

async function openChainIndex(
  history: HistoryStore,
  record: HistoryRecord,
  archivePath: string,
  options: { signal?: AbortSignal },
): Promise<OpenedArchiveIndex> {
  try {
    const links = await resolveHistoryChain(history, record.id);
    const saved = await history.loadArchiveIndex(record.id);
    if (saved !== undefined) {
      let index: ArchiveIndex | undefined;
      try {
        index = decodeArchiveIndex(saved.entries);
      } catch {
        // Saved by a newer format or damaged: merged again below.
      }
      if (index?.chain && (await chainUnchanged(index.chain, links))) return opened(index, archivePath, 'cache');
    }
    const index = await buildChainIndex(links, options);
    const own = index.chain![index.chain!.length - 1]!;
    return await saveIndex(history, record, archivePath, index, own);
  } catch (error) {
    if (error instanceof BrokenChainError || error instanceof HistoryChainError) {
      throw new BrokenChainError(`Backup #${record.id} is incremental and lists through its whole chain: ${error.message}`);
    }
    throw error;
  }
}

function opened(index: ArchiveIndex, archivePath: string, source: 'cache' | 'built', saveError?: Error): OpenedArchiveIndex {
  return { index, archivePath, archiveHolding: archiveHolding(index, archivePath), source, ...(saveError ? { saveError } : {}) };
}

async function saveIndex(
  history: HistoryStore,
  record: HistoryRecord,
  archivePath: string,
  index: ArchiveIndex,
  file: { size: number; mtimeMs: number },
): Promise<OpenedArchiveIndex> {
  const mtimeMs = file.mtimeMs;
  try {
    await history.saveArchiveIndex({
      historyId: record.id,
      archiveSize: file.size,
      archiveMtimeMs: mtimeMs,
      archiveSha256: record.checksum,
      builtAt: new Date().toISOString(),
      entryCount: index.entries.length,
      entries: encodeArchiveIndex(index),
    });
  } catch (error) {
    return opened(index, archivePath, 'built', error as Error);
  }
  return opened(index, archivePath, 'built');
}
