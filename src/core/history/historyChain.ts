import type { HistoryRecord } from './historyRecord';
import type { HistoryStore } from './historyStore';

/** One archive of a backup's chain as the history records it; fits openChain's ChainLink. */
export interface HistoryChainLink {
  readonly id: number;
  readonly path: string;
  /** The archive's checksum as recorded when it was written; undefined on rows that recorded none. */
  readonly sha256: string | undefined;
  readonly sizeBytes: number | undefined;
  readonly record: HistoryRecord;
}

/** A chain the history cannot give whole; `backupId` is the backup whose row is missing or unusable. */
export class HistoryChainError extends Error {
  constructor(
    message: string,
    readonly backupId: number,
  ) {
    super(message);
    this.name = 'HistoryChainError';
  }
}

/**
 * The archives a restore of backup `id` needs, oldest (its full backup) first and ending with `id`, found by
 * following `baseId`. Refuses a chain with a base that is gone from the history, pruned, not a successful backup,
 * or of another volume, naming that backup: the later backups cannot be restored through it.
 */
export async function resolveHistoryChain(history: HistoryStore, id: number): Promise<HistoryChainLink[]> {
  const target = await history.get(id);
  if (target === undefined) throw new HistoryChainError(`There is no backup #${id} in the history.`, id);
  const links = [linkOf(target, undefined)];
  const seen = new Set([id]);
  for (let record = target; record.kind === 'incremental'; ) {
    const dependent = record;
    const baseId = dependent.baseId;
    if (baseId === null) {
      throw new HistoryChainError(`Backup #${dependent.id} is incremental but names no base; ${LATER_FULL}`, dependent.id);
    }
    if (seen.has(baseId)) {
      const loop = `Backup #${dependent.id} builds on #${baseId}, which is already in its chain (the history loops)`;
      throw new HistoryChainError(`${loop}; ${LATER_FULL}`, baseId);
    }
    seen.add(baseId);
    const base = await history.get(baseId);
    if (base === undefined) {
      throw new HistoryChainError(`Backup #${baseId}, the base of #${dependent.id}, is not in the history any more; ${LATER_FULL}`, baseId);
    }
    links.unshift(linkOf(base, dependent));
    record = base;
  }
  return links;
}

const LATER_FULL = 'the backups built on it cannot be restored: restore a full backup, or one whose chain is whole';

function linkOf(record: HistoryRecord, dependent: HistoryRecord | undefined): HistoryChainLink {
  const role = dependent === undefined ? `Backup #${record.id}` : `Backup #${record.id}, the base of #${dependent.id},`;
  const fail = (what: string): never => {
    throw new HistoryChainError(`${role} ${what}; ${dependent === undefined ? 'it cannot be restored' : LATER_FULL}`, record.id);
  };
  if (record.operation !== 'backup') fail(`is a ${record.operation}, not a backup`);
  if (dependent !== undefined && !sameVolume(record, dependent)) {
    fail(`is of ${volumeOf(record)}, not of ${volumeOf(dependent)} (the history is inconsistent)`);
  }
  if (record.prunedAt !== null) fail(`was deleted by retention at ${record.prunedAt}`);
  if (record.backupPath === null) fail('wrote no archive');
  // A backup only builds on a successful one; a partial or failed archive would restore the wrong tree.
  if (dependent !== undefined && record.status !== 'success') fail(`ended ${record.status}, not success`);
  const recorded = { sha256: record.checksum ?? undefined, sizeBytes: record.sizeBytes ?? undefined };
  return { id: record.id, path: record.backupPath!, ...recorded, record };
}

function sameVolume(a: HistoryRecord, b: HistoryRecord): boolean {
  return (a.context ?? '') === (b.context ?? '') && a.namespace === b.namespace && a.pvcName === b.pvcName;
}

function volumeOf(record: HistoryRecord): string {
  return `${record.context ? `${record.context}/` : ''}${record.namespace}/${record.pvcName}`;
}
