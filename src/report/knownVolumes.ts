import type { HistoryRecord } from '../core/history/historyRecord';
import type { ReportRun } from '../core/report/reportModel';
import type { KnownVolume, ReportVolumeRef } from './reportProtocol';

/** How many recent history rows the filter dropdowns are built from. */
export const KNOWN_VOLUME_SCAN = 1000;

/** Every distinct volume in the given rows and the latest run, sorted by cluster, namespace, claim. */
export function knownVolumes(records: readonly HistoryRecord[], run: ReportRun | undefined): KnownVolume[] {
  const byKey = new Map<string, KnownVolume>();
  const add = (volume: KnownVolume): void => {
    byKey.set(JSON.stringify([volume.context, volume.namespace, volume.pvc]), volume);
  };
  for (const r of records) add({ context: r.context, namespace: r.namespace, pvc: r.pvcName });
  for (const r of run?.rows ?? []) add({ context: r.context, namespace: r.namespace, pvc: r.pvc });
  const sortKey = (v: KnownVolume): string[] => [v.context ?? '', v.namespace, v.pvc];
  return [...byKey.values()].sort((a, b) => {
    const [x, y] = [sortKey(a), sortKey(b)];
    for (let i = 0; i < x.length; i++) {
      const c = x[i]!.localeCompare(y[i]!);
      if (c !== 0) return c;
    }
    return 0;
  });
}

/** The volume the chart shows until the user picks one: the latest run's first, else the newest in the history. */
export function suggestedChartVolume(records: readonly HistoryRecord[], run: ReportRun | undefined): ReportVolumeRef | undefined {
  const fromRun = run?.rows[0];
  if (fromRun) return { context: fromRun.context, namespace: fromRun.namespace, pvc: fromRun.pvc };
  const newest = records.find((r) => r.context !== null);
  return newest ? { context: newest.context!, namespace: newest.namespace, pvc: newest.pvcName } : undefined;
}
