import type { HistoryRecord } from '../history/historyRecord';
import { describeHookRun, hookRunsFromHistory } from '../hooks/hookRun';

type ReadFields = Pick<HistoryRecord, 'consistency' | 'snapshotName' | 'snapshotAt' | 'hooks'>;

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
  return [...(sentence ? [sentence] : []), ...(runs.length ? ['Hooks:', ...runs.map((r) => `  ${describeHookRun(r)}`)] : [])];
}
