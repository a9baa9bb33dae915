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
 * - every archive a kept incremental backup needs (its whole chain of bases) is kept too, whatever its age.
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
  const kept = keepChains(decisions);
  return { policy, decisions: kept, prune: kept.filter((d) => d.action === 'prune').map((d) => d.record) };
}

/**
 * Turns into `keep` every base a kept backup restores through, following `baseId`, newest kept backup first
 * so that a base names the newest one that needs it. A base already pruned or gone is not ours to keep.
 */
function keepChains(decisions: readonly RetentionDecision[]): RetentionDecision[] {
  const result = [...decisions];
  const indexById = new Map(result.map((d, index) => [d.record.id, index]));
  const newestFirst = result.filter((d) => d.action === 'keep').sort((a, b) => newer(b.record, a.record));
  for (const { record: kept } of newestFirst) {
    const seen = new Set([kept.id]);
    for (let dependent = kept; dependent.kind === 'incremental' && dependent.baseId !== null && !seen.has(dependent.baseId); ) {
      seen.add(dependent.baseId);
      const index = indexById.get(dependent.baseId);
      if (index === undefined) break;
      const base = result[index]!;
      if (base.action === 'prune') {
        const needed = dependent === kept ? '' : ` (needed to restore #${kept.id})`;
        result[index] = { record: base.record, action: 'keep', reason: `kept: base of #${dependent.id}${needed}` };
      }
      dependent = base.record;
    }
  }
  return result;
}

/** Positive when `a` was made after `b`; ids break ties as they grow with time. */
function newer(a: HistoryRecord, b: HistoryRecord): number {
  return a.createdAt === b.createdAt ? a.id - b.id : a.createdAt > b.createdAt ? 1 : -1;
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
