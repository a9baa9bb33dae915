import { OUTCOME_TEXT } from '../../core/report/outcomeText';
import { formatBytes, formatDuration } from '../../core/report/quantityText';
import type { ReportChartPoint, ReportChartSeries } from '../../report/reportProtocol';

/** The drawing area inside an SVG viewBox, with room for the axis labels around it. */
export interface ChartFrame {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

export const CHART_FRAME: ChartFrame = { width: 640, height: 200, left: 72, right: 16, top: 12, bottom: 36 };

export interface PlottedPoint {
  readonly x: number;
  readonly y: number;
  /** Anything but a verified backup is drawn with a different shape, not only a different colour. */
  readonly ok: boolean;
  /** The tooltip: when, how much, and the outcome. */
  readonly label: string;
}

export interface Tick {
  readonly at: number;
  readonly label: string;
}

export interface PlottedSeries {
  readonly points: readonly PlottedPoint[];
  /** `x,y x,y ...` for a polyline through the points. */
  readonly line: string;
  readonly xTicks: readonly Tick[];
  readonly yTicks: readonly Tick[];
}

export type Measure = 'sizeBytes' | 'durationMs';

export const MEASURES: Readonly<Record<Measure, { readonly title: string; readonly axis: string; readonly format: (n: number) => string }>> = {
  sizeBytes: { title: 'Archive size', axis: 'Size', format: formatBytes },
  durationMs: { title: 'Duration', axis: 'Duration', format: formatDuration },
};

/** Scales one measure of the points into the frame; points without that measure are skipped. */
export function plotSeries(points: readonly ReportChartPoint[], measure: Measure, formatTime: (iso: string) => string, frame: ChartFrame = CHART_FRAME): PlottedSeries {
  const format = MEASURES[measure].format;
  const values = points.flatMap((p) => {
    const value = p[measure];
    const at = Date.parse(p.at);
    return value === null || !Number.isFinite(at) ? [] : [{ point: p, value, at }];
  });
  const plotWidth = frame.width - frame.left - frame.right;
  const plotHeight = frame.height - frame.top - frame.bottom;
  const first = Math.min(...values.map((v) => v.at));
  const last = Math.max(...values.map((v) => v.at));
  const yTickValues = niceTicks(Math.max(0, ...values.map((v) => v.value)), measure === 'sizeBytes' ? 1024 : 1000);
  const yMax = yTickValues[yTickValues.length - 1] ?? 1;
  // A single backup, or several at one instant, sits in the middle rather than on the axis.
  const x = (at: number): number => frame.left + (last === first ? plotWidth / 2 : ((at - first) / (last - first)) * plotWidth);
  const y = (value: number): number => frame.top + plotHeight - (value / yMax) * plotHeight;
  const plotted = values.map(({ point, value, at }) => ({
    x: round(x(at)),
    y: round(y(value)),
    ok: point.status === 'success',
    label: `${formatTime(point.at)}: ${format(value)} (${OUTCOME_TEXT[point.status].label})`,
  }));
  const timeTicks = values.length === 0 ? [] : last === first ? [first] : [first, (first + last) / 2, last];
  return {
    points: plotted,
    line: plotted.map((p) => `${p.x},${p.y}`).join(' '),
    xTicks: timeTicks.map((at) => ({ at: round(x(at)), label: formatTime(new Date(at).toISOString()) })),
    yTicks: yTickValues.map((value) => ({ at: round(y(value)), label: format(value) })),
  };
}

/**
 * Round axis steps (1, 2 or 5 times a power of ten) in the measure's own unit, e.g. whole MiB for
 * sizes, so the labels read "0 B, 2.0 MiB, 4.0 MiB" rather than arbitrary byte counts.
 */
export function niceTicks(max: number, unitBase: number, count = 4): number[] {
  if (!(max > 0)) return [0, 1];
  let unit = 1;
  while (max / unit >= unitBase) unit *= unitBase;
  const rough = max / unit / count;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= rough) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let value = 0; ticks.length === 0 || ticks[ticks.length - 1]! < max / unit - 1e-9; value += step) {
    ticks.push(Number((value).toPrecision(12)));
  }
  return ticks.map((t) => t * unit);
}

/** The chart in words, for screen readers and for anyone who prefers numbers to lines. */
export function chartSummary(series: ReportChartSeries, formatTime: (iso: string) => string): string {
  const { points, volume } = series;
  const name = `${volume.namespace}/${volume.pvc} on ${volume.context}`;
  if (points.length === 0) return `No finished backups of ${name} yet.`;
  const parts = [
    points.length === 1
      ? `1 backup of ${name}, on ${formatTime(points[0]!.at)}.`
      : `${points.length} backups of ${name} between ${formatTime(points[0]!.at)} and ${formatTime(points[points.length - 1]!.at)}.`,
  ];
  for (const measure of ['sizeBytes', 'durationMs'] as const) {
    const values = points.flatMap((p) => (p[measure] === null ? [] : [p[measure]]));
    const { title, format } = MEASURES[measure];
    if (values.length > 0) {
      parts.push(`${title}: latest ${format(values[values.length - 1]!)}, lowest ${format(Math.min(...values))}, highest ${format(Math.max(...values))}.`);
    }
  }
  const notOk = points.filter((p) => p.status !== 'success').length;
  if (notOk > 0) parts.push(`${notOk} of them did not end in a verified archive.`);
  return parts.join(' ');
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
