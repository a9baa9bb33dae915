import type { KnownVolume, ReportHistoryFilter, ReportVolumeRef } from '../../report/reportProtocol';

/** "21–40 of 57", or "0 of 0" for an empty page. */
export function pageLabel(page: number, pageSize: number, total: number): string {
  if (total === 0) return '0 of 0';
  const first = page * pageSize + 1;
  const last = Math.min(total, (page + 1) * pageSize);
  return `${first}–${last} of ${total}`;
}

export function hasNextPage(page: number, pageSize: number, total: number): boolean {
  return (page + 1) * pageSize < total;
}

export interface FilterChoices {
  readonly contexts: readonly string[];
  readonly namespaces: readonly string[];
  readonly pvcs: readonly string[];
}

/**
 * The values each dropdown offers: namespaces narrowed by the chosen cluster, claims by cluster
 * and namespace. A selected value stays listed even if it no longer appears, so it can be cleared.
 */
export function filterChoices(known: readonly KnownVolume[], filter: ReportHistoryFilter): FilterChoices {
  const inContext = known.filter((v) => filter.context === undefined || v.context === filter.context);
  const inNamespace = inContext.filter((v) => filter.namespace === undefined || v.namespace === filter.namespace);
  return {
    contexts: distinct(known.flatMap((v) => (v.context === null ? [] : [v.context])), filter.context),
    namespaces: distinct(inContext.map((v) => v.namespace), filter.namespace),
    pvcs: distinct(inNamespace.map((v) => v.pvc), filter.pvc),
  };
}

/** A narrower choice is dropped when a broader one changes and no longer contains it. */
export function narrowFilter(known: readonly KnownVolume[], filter: ReportHistoryFilter): ReportHistoryFilter {
  const choices = filterChoices(known, { context: filter.context });
  const namespace = filter.namespace !== undefined && choices.namespaces.includes(filter.namespace) ? filter.namespace : undefined;
  const pvcs = filterChoices(known, { context: filter.context, namespace }).pvcs;
  const pvc = filter.pvc !== undefined && pvcs.includes(filter.pvc) ? filter.pvc : undefined;
  return withoutUndefined({ context: filter.context, namespace, pvc, status: filter.status });
}

/** Volumes the chart can show: those with a known cluster. */
export function chartChoices(known: readonly KnownVolume[]): ReportVolumeRef[] {
  return known.flatMap((v) => (v.context === null ? [] : [{ context: v.context, namespace: v.namespace, pvc: v.pvc }]));
}

export function volumeKey(volume: ReportVolumeRef): string {
  return JSON.stringify([volume.context, volume.namespace, volume.pvc]);
}

export function volumeLabel(volume: ReportVolumeRef): string {
  return `${volume.namespace}/${volume.pvc} (${volume.context})`;
}

function distinct(values: readonly string[], selected: string | undefined): string[] {
  const set = new Set(values);
  if (selected !== undefined) set.add(selected);
  return [...set].sort((a, b) => a.localeCompare(b));
}

function withoutUndefined(filter: ReportHistoryFilter): ReportHistoryFilter {
  return Object.fromEntries(Object.entries(filter).filter(([, value]) => value !== undefined)) as ReportHistoryFilter;
}
