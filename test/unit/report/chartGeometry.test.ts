import * as assert from 'node:assert/strict';
import type { ReportChartSeries } from '../../../src/report/reportProtocol';
import { CHART_FRAME, chartSummary, niceTicks, plotSeries } from '../../../src/webview/report/chartGeometry';

const MiB = 1024 * 1024;
const isoDate = (iso: string): string => iso.slice(0, 10);

const series: ReportChartSeries = {
  volume: { context: 'kind-dev', namespace: 'shop', pvc: 'postgres-data' },
  points: [
    { at: '2026-11-26T08:00:00.000Z', status: 'success', sizeBytes: 2 * MiB, durationMs: 4000 },
    { at: '2026-11-27T08:00:00.000Z', status: 'failed', sizeBytes: null, durationMs: 1200 },
    { at: '2026-11-28T08:00:00.000Z', status: 'success', sizeBytes: 3.5 * MiB, durationMs: 8100 },
  ],
};

describe('chart geometry', () => {
  it('steps the size axis in whole binary units', () => {
    assert.deepEqual(niceTicks(3.5 * MiB, 1024), [0, 1, 2, 3, 4].map((n) => n * MiB));
    assert.deepEqual(niceTicks(8100, 1000), [0, 5000, 10000]);
    assert.deepEqual(niceTicks(0, 1024), [0, 1]);
  });

  it('places points left to right by time and bottom to top by value', () => {
    const plotted = plotSeries(series.points, 'sizeBytes', isoDate);
    assert.equal(plotted.points.length, 2, 'the failed backup has no size to plot');
    const [first, last] = plotted.points;
    assert.equal(first!.x, CHART_FRAME.left);
    assert.equal(last!.x, CHART_FRAME.width - CHART_FRAME.right);
    assert.ok(last!.y < first!.y, 'the bigger archive is drawn higher');
    assert.equal(first!.label, '2026-11-26: 2.0 MiB (Backed up)');
    assert.deepEqual(plotted.yTicks.map((t) => t.label), ['0 B', '1.0 MiB', '2.0 MiB', '3.0 MiB', '4.0 MiB']);
    assert.deepEqual(plotted.xTicks.map((t) => t.label), ['2026-11-26', '2026-11-27', '2026-11-28']);
  });

  it('marks failed backups so they are drawn with another shape', () => {
    const plotted = plotSeries(series.points, 'durationMs', isoDate);
    assert.deepEqual(plotted.points.map((p) => p.ok), [true, false, true]);
  });

  it('centres a single backup instead of dividing by zero', () => {
    const plotted = plotSeries(series.points.slice(0, 1), 'sizeBytes', isoDate);
    const width = CHART_FRAME.width - CHART_FRAME.left - CHART_FRAME.right;
    assert.equal(plotted.points[0]!.x, CHART_FRAME.left + width / 2);
    assert.ok(Number.isFinite(plotted.points[0]!.y));
  });

  it('says in words what the chart shows', () => {
    assert.equal(
      chartSummary(series, isoDate),
      '3 backups of shop/postgres-data on kind-dev between 2026-11-26 and 2026-11-28. ' +
        'Archive size: latest 3.5 MiB, lowest 2.0 MiB, highest 3.5 MiB. ' +
        'Duration: latest 8.1 s, lowest 1.2 s, highest 8.1 s. ' +
        '1 of them did not end in a verified archive.',
    );
    assert.equal(chartSummary({ ...series, points: [] }, isoDate), 'No finished backups of shop/postgres-data on kind-dev yet.');
  });
});
