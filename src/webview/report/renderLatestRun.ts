import type { ReportLatestRun } from '../../report/reportProtocol';
import { button, el, replaceChildren } from './elements';
import { outcomeBadge } from './outcomeBadge';
import { hookList, readCell } from './readFacts';
import type { ReportControls } from './reportControls';
import { runRowViews, type RunRowView } from './runRows';
import { timeElement } from './timeText';

export const NO_RUN_TEXT = 'No backup has run in this window yet — run NKVM: Back Up Volumes…';

export function renderLatestRun(body: HTMLElement, latest: ReportLatestRun | undefined, controls: ReportControls): void {
  if (!latest) {
    replaceChildren(body, el('p', { className: 'empty', testId: 'latest-run-empty' }, NO_RUN_TEXT));
    return;
  }
  const { run } = latest;
  const meta = el(
    'p',
    { className: 'run-meta' },
    run.runId ? `Run ${run.runId} · ` : '',
    'started ',
    timeElement(run.startedAt),
    ' · ',
    ...(run.finishedAt ? ['finished ', timeElement(run.finishedAt)] : ['in progress']),
    ` · concurrency ${run.concurrency}`,
  );
  const table = el(
    'table',
    { className: 'report-table', testId: 'latest-run-table' },
    el('caption', {}, `Outcome per volume: ${latest.summary}`),
    el('thead', {}, el('tr', {}, ...['Volume', 'Outcome', 'Stage', 'Read', 'Hooks', 'Duration', 'Size', 'SHA-256', 'Archive'].map((h) => el('th', { attrs: { scope: 'col' } }, h)))),
    el('tbody', {}, ...runRowViews(run).map((row) => runRow(row, controls))),
  );
  replaceChildren(body, meta, el('div', { className: 'table-scroll' }, table));
}

function runRow(row: RunRowView, controls: ReportControls): HTMLTableRowElement {
  const volume = `${row.namespace}/${row.pvc}`;
  return el(
    'tr',
    { attrs: { 'data-state': row.state } },
    el('th', { attrs: { scope: 'row' } }, volume, el('span', { className: 'muted block' }, row.context)),
    el(
      'td',
      {},
      outcomeBadge(row.state),
      row.progress !== undefined &&
        el(
          'span',
          { className: 'progress block' },
          el('progress', { attrs: { 'aria-label': `Backing up ${volume}` } }),
          el('span', { className: 'muted' }, row.progress),
        ),
    ),
    el('td', {}, row.stage),
    el('td', {}, readCell(row.read)),
    el('td', {}, hookList(row.hooks)),
    el('td', { className: 'number' }, row.duration),
    el('td', { className: 'number' }, row.size, row.kind ? el('span', { className: 'muted block', testId: 'run-kind' }, row.kind) : null),
    el(
      'td',
      {},
      row.checksum
        ? el(
            'span',
            { className: 'with-action' },
            el('code', { className: 'checksum', attrs: { title: row.checksum.full } }, row.checksum.short),
            button('Copy', () => controls.copy(row.checksum!.full, `the SHA-256 of ${volume}`), {
              focusKey: `copy-checksum:${row.key}`,
              attrs: { 'aria-label': `Copy the SHA-256 of ${volume}` },
            }),
          )
        : '-',
    ),
    el(
      'td',
      {},
      row.archivePath
        ? el(
            'span',
            { className: 'with-action' },
            el('span', { className: 'path', attrs: { title: row.archivePath } }, row.archiveName ?? row.archivePath),
            button('Reveal', () => controls.revealArchive(row.archivePath!), {
              focusKey: `reveal:${row.key}`,
              attrs: { 'aria-label': `Reveal the archive of ${volume}` },
            }),
          )
        : '-',
    ),
  );
}
