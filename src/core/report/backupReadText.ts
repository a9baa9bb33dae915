import type { HistoryRecord } from '../history/historyRecord';
import { describeHookRun, hookRunsFromHistory } from '../hooks/hookRun';

type ReadFields = Pick<HistoryRecord, 'consistency' | 'snapshotName' | 'snapshotAt' | 'hooks'> & Partial<KindFields>;
type KindFields = Pick<HistoryRecord, 'kind' | 'baseId' | 'increment'>;

/** `incremental on #3`, for a tree description; undefined for a full backup. */
export function kindLabel(record: KindFields): string | undefined {
  return record.kind === 'incremental' ? `incremental on #${record.baseId ?? '?'}` : undefined;
}

/** `Incremental on backup #3: 2 changed, 40 unchanged, 1 deleted.`; undefined for a full backup. */
export function kindSentence(record: KindFields): string | undefined {
  if (record.kind !== 'incremental') return undefined;
  const counts = incrementCounts(record.increment);
  const found = counts ? `: ${counts.changed + counts.added + counts.typeChanged} changed, ${counts.unchanged} unchanged, ${counts.deleted} deleted` : '';
  return `Incremental on backup #${record.baseId ?? '?'}${found}; the size is what was sent.`;
}

interface IncrementCounts {
  readonly changed: number;
  readonly added: number;
  readonly typeChanged: number;
  readonly unchanged: number;
  readonly deleted: number;
}

function incrementCounts(json: string | null): IncrementCounts | undefined {
  if (!json) return undefined;
  try {
    const manifest = JSON.parse(json) as { counts?: Partial<IncrementCounts> };
    const c = manifest.counts ?? {};
    const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
    return { changed: n(c.changed), added: n(c.added), typeChanged: n(c.typeChanged), unchanged: n(c.unchanged), deleted: n(c.deleted) };
  } catch {
    return undefined;
  }
}

/**
 * `snapshot 20:41:55` or `live`, for a tree description; undefined on rows written before backups
 * recorded how they read the volume. `time` turns the snapshot's ISO time into the viewer's words.
 */
export function consistencyLabel(record: Pick<HistoryRecord, 'consistency' | 'snapshotAt'>, time: (iso: string) => string = (iso) => iso): string | undefined {
  if (record.consistency === 'snapshot') return record.snapshotAt ? `snapshot ${time(record.snapshotAt)}` : 'snapshot';
  return record.consistency ?? undefined;
}

/** How the backup read the volume, in a sentence for a tooltip. */
export function consistencySentence(record: Pick<HistoryRecord, 'consistency' | 'snapshotName' | 'snapshotAt'>): string | undefined {
  if (record.consistency === 'snapshot') {
    const taken = record.snapshotAt ? ` taken ${record.snapshotAt}` : '';
    return `Point in time: read from VolumeSnapshot ${record.snapshotName ?? '(name not recorded)'}${taken}.`;
  }
  if (record.consistency === 'live') return 'Read live: the volume was read while its workload could write to it.';
  return undefined;
}

/** The tooltip's lines: how the volume was read, then each hook that ran (`pre hook in shop/db-0 (pg): exit 0 in 0.4 s`). */
export function backupReadLines(record: ReadFields): string[] {
  const runs = hookRunsFromHistory(record.hooks);
  const sentence = consistencySentence(record);
  const kind = record.kind !== undefined ? kindSentence(record as KindFields) : undefined;
  return [...(kind ? [kind] : []), ...(sentence ? [sentence] : []), ...(runs.length ? ['Hooks:', ...runs.map((r) => `  ${describeHookRun(r)}`)] : [])];
}
