import type { KnownVolume, ReportChartSeries, ReportHistoryPage, ReportHostMessage, ReportLatestRun, ReportUiState, ReportVolumeRef, ReportWebviewMessage } from '../../report/reportProtocol';
import { ChartSection } from './chartSection';
import { button, el, redrawKeepingFocus, replaceChildren } from './elements';
import { HistorySection } from './historySection';
import { renderFailures } from './renderFailures';
import { renderLatestRun } from './renderLatestRun';
import type { ReportControls } from './reportControls';
import { runStatusText } from './runRows';
import { connectToHost } from './webviewApi';

const host = connectToHost();
let ui: ReportUiState = host.savedUiState() ?? { filter: {}, page: 0 };
let latest: ReportLatestRun | undefined;
let charted: ReportChartSeries | undefined;
let known: readonly KnownVolume[] = [];

function post(message: ReportWebviewMessage): void {
  host.post(message);
}

function remember(next: Partial<ReportUiState>): void {
  ui = { ...ui, ...next };
  host.saveUiState(ui);
}

/** One polite status line for confirmations and problems the host reports. */
const notice = el('p', { className: 'notice', testId: 'notice', attrs: { role: 'status', 'aria-live': 'polite' } });
function announce(text: string): void {
  notice.textContent = text;
}

function section(id: string, title: string): { section: HTMLElement; heading: HTMLHeadingElement; body: HTMLElement } {
  const heading = el('h2', { id: `${id}-heading`, attrs: { tabindex: '-1' } }, title);
  const body = el('div', { className: 'section-body', testId: `${id}-body` });
  return { section: el('section', { id, testId: id, attrs: { 'aria-labelledby': `${id}-heading` } }, heading, body), heading, body };
}

const controls: ReportControls = {
  copy(text, what) {
    post({ type: 'copyText', text });
    announce(`Copied ${what} to the clipboard.`);
  },
  revealArchive: (path) => post({ type: 'revealArchive', path }),
  openArchiveFolder: () => post({ type: 'openArchiveFolder' }),
  restoreBackup: (historyId) => post({ type: 'restoreBackup', historyId }),
  verifyBackup: (historyId) => post({ type: 'verifyBackup', historyId }),
  drillBackup: (historyId) => post({ type: 'drillBackup', historyId }),
  consolidateBackup: (historyId) => post({ type: 'consolidateBackup', historyId }),
  exportReport: (format) => post({ type: 'exportReport', format }),
  rerunFailed() {
    post({ type: 'rerunFailed' });
    announce('Starting the failed volumes again…');
  },
  queryHistory(filter, page) {
    remember({ filter, page });
    post({ type: 'queryHistory', filter, page });
  },
  showChart(volume: ReportVolumeRef) {
    remember({ chart: volume });
    post({ type: 'chartFor', ...volume });
  },
};

const latestRun = section('latest-run', 'Latest Backup Run');
// Announces "n of m finished" as volumes finish, not every progress tick.
const runStatus = el('p', { className: 'run-status', testId: 'run-status', attrs: { 'aria-live': 'polite' } });
latestRun.heading.after(runStatus);
const failures = section('failures', 'Actionable Failures');
const history = section('history', 'Recent Backup History');
const chart = section('chart', 'Size and Duration Over Time');
const chartSection = new ChartSection(chart.body, controls);
const historySection = new HistorySection(history.body, {
  ...controls,
  // "Chart" in a history row takes keyboard users to the chart it just chose.
  showChart(volume) {
    controls.showChart(volume);
    chart.heading.focus();
    chart.section.scrollIntoView({ block: 'start' });
  },
});

function showRun(next: ReportLatestRun | undefined): void {
  latest = next;
  const status = next ? runStatusText(next) : '';
  if (runStatus.textContent !== status) runStatus.textContent = status;
  redrawKeepingFocus(latestRun.body, () => renderLatestRun(latestRun.body, latest, controls));
  redrawKeepingFocus(failures.body, () => renderFailures(failures.body, latest, controls));
}

function showHistory(page: ReportHistoryPage, volumes: readonly KnownVolume[]): void {
  known = volumes;
  remember({ filter: page.filter, page: page.page });
  historySection.update(page, known);
  chartSection.updateChoices(known, charted);
}

function showChart(next: ReportChartSeries | undefined): void {
  charted = next;
  if (next) remember({ chart: next.volume });
  chartSection.updateChoices(known, charted);
  chartSection.update(next);
}

function receive(message: ReportHostMessage): void {
  switch (message.type) {
    case 'state':
      root.setAttribute('aria-busy', 'false');
      showRun(message.state.latest);
      showHistory(message.state.history, message.state.knownVolumes);
      showChart(message.state.chart);
      return;
    case 'runUpdated':
      showRun(message.latest);
      return;
    case 'historyPage':
      showHistory(message.history, message.knownVolumes);
      return;
    case 'chartData':
      showChart(message.chart);
      return;
    case 'notice':
      announce(message.text);
      return;
  }
}

const root = document.getElementById('report-root') ?? document.body.appendChild(el('main', { id: 'report-root' }));
replaceChildren(
  root,
  el(
    'header',
    { className: 'report-header' },
    el('h1', {}, 'Backup Report'),
    el(
      'div',
      { className: 'toolbar', attrs: { role: 'group', 'aria-label': 'Report actions' } },
      button('Export JSON', () => controls.exportReport('json'), { testId: 'export-json' }),
      button('Export Markdown', () => controls.exportReport('markdown'), { testId: 'export-markdown' }),
      button('Open archive folder', () => controls.openArchiveFolder(), { testId: 'open-archive-folder' }),
    ),
  ),
  notice,
  latestRun.section,
  failures.section,
  history.section,
  chart.section,
);

window.addEventListener('message', (event: MessageEvent<unknown>) => {
  const data = event.data;
  if (typeof data === 'object' && data !== null && typeof (data as { type?: unknown }).type === 'string') {
    receive(data as ReportHostMessage);
  }
});
post({ type: 'ready', ui });
