import type { HistoryRecord } from '../history/historyRecord';

export interface RetentionPolicy {
  /** Successful archives kept per volume; 0 keeps all. */
  readonly keepLast: number;
  /** Archives older than this are pruned; 0 never prunes by age. */
  readonly maxAgeDays: number;
}

export interface RetentionDecision {
  readonly record: HistoryRecord;
  readonly action: 'keep' | 'prune';
  readonly reason: string;
}

export interface RetentionPlan {
  readonly policy: RetentionPolicy;
  readonly decisions: readonly RetentionDecision[];
  readonly prune: readonly HistoryRecord[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Decides which backup archives to delete, per volume (context, namespace, PVC):
 * - `keepLast` counts successful backups only; an archive older than the N-th newest success is
 *   pruned, so partial archives newer than that stay until enough good ones follow;
 * - `maxAgeDays` prunes archives created before `now` minus that many days;
 * - the newest successful archive of a volume is never pruned, so age alone cannot leave a
 *   volume with no backup; running backups are never touched.
 * Rows without an archive or already pruned are ignored.
 */
export function planRetention(records: readonly HistoryRecord[], policy: RetentionPolicy, now: Date): RetentionPlan {
  const volumes = new Map<string, HistoryRecord[]>();
  for (const record of records) {
    if (record.operation !== 'backup' || record.backupPath === null || record.prunedAt !== null) continue;
    const key = JSON.stringify([record.context ?? '', record.namespace, record.pvcName]);
    const list = volumes.get(key) ?? [];
    list.push(record);
    volumes.set(key, list);
  }
  const cutoff = policy.maxAgeDays > 0 ? now.getTime() - policy.maxAgeDays * DAY_MS : undefined;
  const decisions: RetentionDecision[] = [];
  for (const list of volumes.values()) {
    list.sort((a, b) => (a.createdAt === b.createdAt ? b.id - a.id : a.createdAt < b.createdAt ? 1 : -1));
    const successes = list.filter((r) => r.status === 'success');
    const newestSuccess = successes[0];
    const oldestKeptSuccess = policy.keepLast > 0 ? successes[policy.keepLast - 1] : undefined;
    for (const record of list) {
      decisions.push({ record, ...decide(record, list, policy, cutoff, newestSuccess, oldestKeptSuccess) });
    }
  }
  return { policy, decisions, prune: decisions.filter((d) => d.action === 'prune').map((d) => d.record) };
}

function decide(
  record: HistoryRecord,
  newestFirst: readonly HistoryRecord[],
  policy: RetentionPolicy,
  cutoff: number | undefined,
  newestSuccess: HistoryRecord | undefined,
  oldestKeptSuccess: HistoryRecord | undefined,
): Pick<RetentionDecision, 'action' | 'reason'> {
  if (record.status === 'running') return { action: 'keep', reason: 'the backup is still running' };
  if (record === newestSuccess) return { action: 'keep', reason: 'newest successful backup of the volume' };
  if (oldestKeptSuccess !== undefined && newestFirst.indexOf(record) > newestFirst.indexOf(oldestKeptSuccess)) {
    return { action: 'prune', reason: `older than the ${policy.keepLast} newest successful backups` };
  }
  if (cutoff !== undefined && Date.parse(record.createdAt) < cutoff) {
    return { action: 'prune', reason: `older than ${policy.maxAgeDays} days` };
  }
  return { action: 'keep', reason: 'within the retention policy' };
}
