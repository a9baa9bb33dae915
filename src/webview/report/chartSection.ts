import type { KnownVolume, ReportChartSeries, ReportVolumeRef } from '../../report/reportProtocol';
import { CHART_FRAME, MEASURES, chartSummary, plotSeries, type Measure } from './chartGeometry';
import { el, replaceChildren, svgEl } from './elements';
import { chartChoices, volumeKey, volumeLabel } from './historyView';
import type { ReportControls } from './reportControls';
import { formatTime } from './timeText';

/** Archive size and duration over time for one volume, as inline SVG plus the same facts in words. */
export class ChartSection {
  private readonly picker = el('select', { testId: 'chart-volume', id: 'chart-volume' });
  private readonly area = el('div', { testId: 'chart-area' });
  private choices: ReportVolumeRef[] = [];

  constructor(
    body: HTMLElement,
    private readonly controls: ReportControls,
  ) {
    this.picker.addEventListener('change', () => {
      const chosen = this.choices.find((v) => volumeKey(v) === this.picker.value);
      if (chosen) controls.showChart(chosen);
    });
    replaceChildren(body, el('label', { className: 'filter' }, el('span', {}, 'Volume'), this.picker), this.area);
  }

  updateChoices(known: readonly KnownVolume[], chart: ReportChartSeries | undefined): void {
    this.choices = chartChoices(known);
    if (chart && !this.choices.some((v) => volumeKey(v) === volumeKey(chart.volume))) this.choices.unshift(chart.volume);
    const wanted = this.choices.map((v) => ({ value: volumeKey(v), label: volumeLabel(v) }));
    const same = this.picker.options.length === wanted.length && wanted.every((o, i) => this.picker.options[i]?.value === o.value);
    if (!same) this.picker.replaceChildren(...wanted.map((o) => el('option', { attrs: { value: o.value } }, o.label)));
    this.picker.value = chart ? volumeKey(chart.volume) : '';
    this.picker.disabled = this.choices.length === 0;
  }

  update(chart: ReportChartSeries | undefined): void {
    if (!chart) {
      replaceChildren(this.area, el('p', { className: 'empty', testId: 'chart-empty' }, 'No history yet'));
      return;
    }
    this.picker.value = volumeKey(chart.volume);
    const summary = chartSummary(chart, formatTime);
    if (chart.points.length === 0) {
      replaceChildren(this.area, el('p', { className: 'empty', testId: 'chart-summary' }, summary));
      return;
    }
    replaceChildren(
      this.area,
      figure(chart, 'sizeBytes'),
      figure(chart, 'durationMs'),
      el('p', { className: 'legend', attrs: { 'aria-hidden': 'true' } }, el('span', { className: 'legend-ok' }, '●'), ' verified backup   ', el('span', { className: 'legend-bad' }, '◆'), ' failed, partial or cancelled'),
      el('p', { className: 'chart-summary', testId: 'chart-summary' }, summary),
    );
  }
}

function figure(chart: ReportChartSeries, measure: Measure): HTMLElement {
  const { title, axis } = MEASURES[measure];
  const plotted = plotSeries(chart.points, measure, formatTime);
  const frame = CHART_FRAME;
  const id = `chart-${measure}`;
  const caption = `${title} of ${chart.volume.namespace}/${chart.volume.pvc} over time`;
  const bottom = frame.height - frame.bottom;
  const svg = svgEl(
    'svg',
    { viewBox: `0 0 ${frame.width} ${frame.height}`, role: 'img', 'aria-labelledby': `${id}-title`, class: 'chart', 'data-testid': id },
    svgEl('title', { id: `${id}-title` }, caption),
    ...plotted.yTicks.flatMap((tick) => [
      svgEl('line', { class: 'grid', x1: frame.left, x2: frame.width - frame.right, y1: tick.at, y2: tick.at }),
      svgEl('text', { class: 'tick', x: frame.left - 6, y: tick.at, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, tick.label),
    ]),
    svgEl('line', { class: 'axis', x1: frame.left, x2: frame.width - frame.right, y1: bottom, y2: bottom }),
    svgEl('line', { class: 'axis', x1: frame.left, x2: frame.left, y1: frame.top, y2: bottom }),
    ...plotted.xTicks.map((tick, i, all) =>
      svgEl('text', { class: 'tick', x: tick.at, y: bottom + 16, 'text-anchor': all.length > 1 && i === 0 ? 'start' : all.length > 1 && i === all.length - 1 ? 'end' : 'middle' }, tick.label),
    ),
    svgEl('text', { class: 'axis-label', x: 12, y: frame.top + (bottom - frame.top) / 2, transform: `rotate(-90 12 ${frame.top + (bottom - frame.top) / 2})`, 'text-anchor': 'middle' }, axis),
    svgEl('text', { class: 'axis-label', x: frame.left + (frame.width - frame.left - frame.right) / 2, y: frame.height - 2, 'text-anchor': 'middle' }, 'Backup time'),
    plotted.points.length > 1 && svgEl('polyline', { class: `series series-${measure}`, points: plotted.line }),
    ...plotted.points.map((p) =>
      p.ok
        ? svgEl('circle', { class: `point series-${measure}`, cx: p.x, cy: p.y, r: 4 }, svgEl('title', {}, p.label))
        : svgEl('path', { class: 'point point-bad', d: `M ${p.x} ${p.y - 5} L ${p.x + 5} ${p.y} L ${p.x} ${p.y + 5} L ${p.x - 5} ${p.y} Z` }, svgEl('title', {}, p.label)),
    ),
  );
  return el('figure', { className: 'chart-figure' }, el('figcaption', {}, title), plotted.points.length === 0 ? el('p', { className: 'empty' }, `No ${title.toLowerCase()} recorded yet.`) : svg);
}
