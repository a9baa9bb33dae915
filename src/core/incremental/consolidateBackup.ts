import { access, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { HistoryChainError, resolveHistoryChain } from '../history/historyChain';
import type { HistoryRecord } from '../history/historyRecord';
import type { HistoryStore } from '../history/historyStore';
import { BrokenChainError } from './chainTree';
import { consolidateChain } from './consolidateChain';
import { openChain } from './openChain';

export interface ConsolidateBackupOptions {
  /** `none` writes a plain `.tar`; gzip (the default) a `.tar.gz`. */
  readonly compression?: 'gzip' | 'none';
  /** gzip level 1 to 9; 6 when not given. */
  readonly level?: number;
  readonly signal?: AbortSignal;
  /** Called as each step starts, for a progress line. */
  readonly onStep?: (step: 'check' | 'write' | 'record') => void;
}

export interface ConsolidatedBackup {
  /** The new history row: a full backup holding the volume at the consolidated backup. */
  readonly record: HistoryRecord;
  /** The backups whose archives were merged, oldest first, ending with the consolidated one. */
  readonly from: readonly number[];
  /** What could not be copied to the new row (its listing or digests); the archive and row are fine without them. */
  readonly warnings: readonly string[];
}

/** A backup that cannot be consolidated as asked (full already, not a backup, not successful). */
export class ConsolidateRefusedError extends Error {
  override readonly name = 'ConsolidateRefusedError';
}

/**
 * Merges the chain of incremental backup `id` into one new full archive beside its own, without the cluster, and
 * records it as a new successful full backup of the same volume taken at the same time (the archive holds the volume
 * at that point), with its listing and digests, so later incremental backups can build on it. The archive is written
 * under a `.partial` name and renamed when complete; on failure or cancel nothing is left under a final name.
 */
export async function consolidateBackup(
  history: HistoryStore,
  id: number,
  options: ConsolidateBackupOptions = {},
): Promise<ConsolidatedBackup> {
  const record = await history.get(id);
  if (record === undefined) throw new ConsolidateRefusedError(`There is no backup #${id} in the history.`);
  refuseUnlessIncremental(record);
  options.onStep?.('check');
  let links, opened;
  try {
    links = await resolveHistoryChain(history, id);
    opened = await openChain(links, options.signal);
  } catch (error) {
    if (!(error instanceof HistoryChainError || error instanceof BrokenChainError)) throw error;
    throw new BrokenChainError(`Backup #${id} cannot be consolidated, its chain is broken: ${error.message}`);
  }
  const compression = options.compression ?? 'gzip';
  const target = await freeArchiveName(record.backupPath!, compression);
  options.onStep?.('write');
  const started = Date.now();
  const { signal, level } = options;
  const written = await consolidateChain(opened, target, {
    compression,
    ...(level !== undefined ? { level } : {}),
    ...(signal ? { signal } : {}),
  });
  options.onStep?.('record');
  const from = links.map((l) => l.id);
  let newId: number;
  try {
    newId = await history.append({
      operation: 'backup',
      kind: 'full',
      status: 'success',
      context: record.context,
      namespace: record.namespace,
      pvcName: record.pvcName,
      createdAt: record.createdAt,
      finishedAt: new Date(),
      durationMs: Date.now() - started,
      message: `Consolidated from backups ${from.map((n) => `#${n}`).join(', ')}`,
      backupPath: written.path,
      checksum: written.sha256,
      sizeBytes: written.size,
      consistency: record.consistency,
      snapshotName: record.snapshotName,
      snapshotAt: record.snapshotAt,
    });
  } catch (error) {
    // Without its row nothing would ever find, verify or prune the archive.
    await rm(written.path, { force: true });
    const reason = (error as Error).message;
    throw new Error(`The consolidated archive could not be recorded in the history (${reason}); it was removed. Try again.`);
  }
  const warnings = await copyListings(history, id, newId);
  return { record: (await history.get(newId))!, from, warnings };
}

function refuseUnlessIncremental(record: HistoryRecord): void {
  const name = `Backup #${record.id} (${record.namespace}/${record.pvcName})`;
  if (record.operation !== 'backup') {
    throw new ConsolidateRefusedError(`#${record.id} is a ${record.operation}, not a backup; there is nothing to consolidate.`);
  }
  if (record.kind !== 'incremental') {
    throw new ConsolidateRefusedError(`${name} is already full: it restores from its own archive, so there is nothing to consolidate.`);
  }
  if (record.status !== 'success') {
    const next = 'Consolidate an earlier successful one.';
    throw new ConsolidateRefusedError(`${name} ended ${record.status}; only a successful backup is consolidated. ${next}`);
  }
  if (record.prunedAt !== null || record.backupPath === null) {
    const pruned = record.prunedAt ? ` (deleted by retention at ${record.prunedAt})` : '';
    throw new ConsolidateRefusedError(`${name} has no archive any more${pruned}.`);
  }
}

/** `<own name>-full.tar.gz` beside the backup's archive, numbered when taken (by a file or a `.partial` one). */
async function freeArchiveName(ownArchive: string, compression: 'gzip' | 'none'): Promise<string> {
  const stem = basename(ownArchive).replace(/\.(tar\.gz|tgz|tar)$/, '');
  const extension = compression === 'none' ? '.tar' : '.tar.gz';
  for (let n = 1; n < 1000; n++) {
    const candidate = join(dirname(ownArchive), `${stem}-full${n === 1 ? '' : `-${n}`}${extension}`);
    if (!(await exists(candidate)) && !(await exists(`${candidate}.partial`))) return candidate;
  }
  throw new Error(`Too many consolidated archives of ${ownArchive} already; remove old ones from ${dirname(ownArchive)}.`);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The consolidated backup's pod listing (the base of the next incremental backup) and digests (for drills). */
async function copyListings(history: HistoryStore, fromId: number, toId: number): Promise<string[]> {
  const warnings: string[] = [];
  try {
    const listing = await history.loadPodListing(fromId);
    if (listing) await history.savePodListing({ ...listing, historyId: toId });
  } catch (error) {
    warnings.push(`the volume listing of #${fromId} was not copied (${(error as Error).message}); the next backup will be full`);
  }
  try {
    const digests = await history.loadBackupDigests(fromId);
    if (digests) await history.saveBackupDigests({ ...digests, historyId: toId });
  } catch (error) {
    warnings.push(`the file digests of #${fromId} were not copied (${(error as Error).message}); a drill compares with the archive itself`);
  }
  return warnings;
}
