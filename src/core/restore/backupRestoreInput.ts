import { HistoryChainError, resolveHistoryChain } from '../history/historyChain';
import type { HistoryRecord } from '../history/historyRecord';
import type { HistoryStore } from '../history/historyStore';
import { BROKEN_CHAIN_NEXT_STEP } from './restoreSource';
import { RestoreStageError } from './restoreStage';
import type { RestoreRequest } from './restoreVolume';

/** What a restore (or drill) of a history row reads: the row's archive, and for an incremental backup its chain. */
export type BackupRestoreInput = Pick<RestoreRequest, 'archivePath' | 'expectedSha256' | 'chain'>;

/**
 * The archive of a full backup with its recorded checksum, as it was always restored; for an incremental
 * backup, every archive from its full backup on (resolveHistoryChain). A chain the history cannot give
 * whole (a base pruned, failed or gone) is refused at the create stage, before anything is created.
 */
export async function backupRestoreInput(history: HistoryStore, record: HistoryRecord): Promise<BackupRestoreInput> {
  if (record.backupPath === null) {
    throw new RestoreStageError('create', `backup #${record.id} wrote no archive (${record.status})`, 'Pick another backup of this volume.');
  }
  const own = { archivePath: record.backupPath, expectedSha256: record.checksum ?? undefined };
  if (record.kind !== 'incremental') return own;
  try {
    const links = await resolveHistoryChain(history, record.id);
    return { ...own, chain: links.map(({ id, path, sha256 }) => ({ id, path, ...(sha256 !== undefined ? { sha256 } : {}) })) };
  } catch (e) {
    if (!(e instanceof HistoryChainError)) throw e;
    throw new RestoreStageError('create', `backup #${record.id} cannot be restored: ${e.message}`, BROKEN_CHAIN_NEXT_STEP);
  }
}
