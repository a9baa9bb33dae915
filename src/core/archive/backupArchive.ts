import type { HistoryRecord } from '../history/historyRecord';

/** Whether a history row still has an archive to open, verify or restore. */
export function hasArchive(record: HistoryRecord): boolean {
  return record.operation === 'backup' && !!record.backupPath && record.prunedAt === null && (record.status === 'success' || record.status === 'partial');
}

/** A few words on the archive's state for a tree node: pruned, or the last verification's result. */
export function archiveStateText(record: HistoryRecord): string | undefined {
  if (record.prunedAt !== null) return 'pruned';
  switch (record.verifyOutcome) {
    case null:
      return undefined;
    case 'ok':
      return 'verified';
    case 'missing':
      return 'archive missing';
    case 'size-differs':
    case 'checksum-differs':
      return 'archive altered';
    case 'damaged':
      return 'archive damaged';
  }
}
