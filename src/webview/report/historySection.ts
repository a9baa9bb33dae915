import { hasArchive } from '../../core/archive/backupArchive';
import { backupChecksText, drillTooltipLine } from '../../core/drill/checksText';
import { HISTORY_STATUSES } from '../../core/history/historyRecord';
import { OUTCOME_TEXT } from '../../core/report/outcomeText';
import { formatBytes, formatDuration } from '../../core/report/quantityText';
import type { KnownVolume, ReportHistoryFilter, ReportHistoryPage, ReportHistoryRow } from '../../report/reportProtocol';
import { button, el, redrawKeepingFocus, replaceChildren } from './elements';
import { filterChoices, hasNextPage, narrowFilter, pageLabel } from './historyView';
import { outcomeBadge } from './outcomeBadge';
import { hookDetails, readCell } from './readFacts';
import { kindLabel, kindSentence } from '../../core/report/backupReadText';
import type { ReportControls } from './reportControls';
import { archiveFileName } from './runRows';
import { timeElement } from './timeText';

type FilterField = keyof ReportHistoryFilter;

/** "Recent Backup History": filters, a page of rows, and paging. Built once, then updated in place. */
export class HistorySection {
  private readonly selects: Record<FilterField, HTMLSelectElement>;
  private readonly tableArea = el('div', { testId: 'history-rows' });
  private readonly pageText = el('span', { className: 'page-label', testId: 'history-page-label', attrs: { 'aria-live': 'polite' } });
  private readonly previous: HTMLButtonElement;
  private readonly next: HTMLButtonElement;
  private history: ReportHistoryPage | undefined;
  private known: readonly KnownVolume[] = [];

  constructor(
    readonly body: HTMLElement,
    private readonly controls: ReportControls,
  ) {
    this.selects = {
      context: this.select('context'),
      namespace: this.select('namespace'),
      pvc: this.select('pvc'),
      status: this.select('status'),
    };
    setOptions(this.selects.status, HISTORY_STATUSES.map((s) => ({ value: s, label: OUTCOME_TEXT[s].label })), undefined, 'All statuses');
    this.previous = button('Previous', () => this.goTo(-1), { testId: 'history-previous', attrs: { 'aria-label': 'Previous page of history' } });
    this.next = button('Next', () => this.goTo(1), { testId: 'history-next', attrs: { 'aria-label': 'Next page of history' } });
    const labelled = (text: string, field: FilterField): HTMLElement => el('label', { className: 'filter' }, el('span', {}, text), this.selects[field]);
    replaceChildren(
      body,
      el(
        'div',
        { className: 'filters', attrs: { role: 'group', 'aria-label': 'Filter the history' } },
        labelled('Cluster', 'context'),
        labelled('Namespace', 'namespace'),
        labelled('PVC', 'pvc'),
        labelled('Status', 'status'),
      ),
      this.tableArea,
      el('nav', { className: 'pager', attrs: { 'aria-label': 'History pages' } }, this.previous, this.pageText, this.next),
    );
  }

  update(history: ReportHistoryPage, known: readonly KnownVolume[]): void {
    this.history = history;
    this.known = known;
    const choices = filterChoices(known, history.filter);
    const options = (values: readonly string[]): { value: string; label: string }[] => values.map((value) => ({ value, label: value }));
    setOptions(this.selects.context, options(choices.contexts), history.filter.context, 'All clusters');
    setOptions(this.selects.namespace, options(choices.namespaces), history.filter.namespace, 'All namespaces');
    setOptions(this.selects.pvc, options(choices.pvcs), history.filter.pvc, 'All PVCs');
    this.selects.status.value = history.filter.status ?? '';
    redrawKeepingFocus(this.tableArea, () => replaceChildren(this.tableArea, this.table(history)));
    this.pageText.textContent = pageLabel(history.page, history.pageSize, history.total);
    this.previous.disabled = history.page === 0;
    this.next.disabled = !hasNextPage(history.page, history.pageSize, history.total);
  }

  private table(history: ReportHistoryPage): HTMLElement {
    if (history.rows.length === 0) {
      const filtered = Object.keys(history.filter).length > 0;
      return el('p', { className: 'empty', testId: 'history-empty' }, filtered ? 'No backups match these filters.' : 'No history yet');
    }
    return el(
      'div',
      { className: 'table-scroll' },
      el(
        'table',
        { className: 'report-table', testId: 'history-table' },
        el('caption', {}, 'Backups and restores, newest first'),
        el('thead', {}, el('tr', {}, ...['Created', 'Volume', 'Status', 'Read', 'Hooks', 'Duration', 'Size', 'Archive or message', 'Actions'].map((h) => el('th', { attrs: { scope: 'col' } }, h)))),
        el('tbody', {}, ...history.rows.map((row) => this.row(row))),
      ),
    );
  }

  private row(row: ReportHistoryRow): HTMLTableRowElement {
    const volume = `${row.namespace}/${row.pvcName}`;
    const context = row.context;
    return el(
      'tr',
      { attrs: { 'data-status': row.status } },
      el('td', {}, timeElement(row.createdAt)),
      el('th', { attrs: { scope: 'row' } }, volume, el('span', { className: 'muted block' }, context ?? 'cluster not recorded'), row.operation === 'restore' ? el('span', { className: 'muted block' }, 'restore') : null),
      el(
        'td',
        {},
        outcomeBadge(row.status),
        // The last verify and restore drill of the archive, beside the backup's own outcome.
        row.verifyOutcome || row.drillOutcome ? el('span', { className: 'muted block', testId: 'history-checks', attrs: { title: drillTooltipLine(row) ?? '' } }, backupChecksText(row)) : null,
      ),
      el('td', {}, row.operation === 'backup' ? readCell(row) : '-'),
      el('td', {}, hookDetails(row.hookRuns ?? [])),
      el('td', { className: 'number' }, formatDuration(row.durationMs)),
      el(
        'td',
        { className: 'number' },
        formatBytes(row.sizeBytes),
        row.kind === 'incremental' ? el('span', { className: 'muted block', testId: 'history-kind', attrs: { title: kindSentence(row) ?? '' } }, `sent · ${kindLabel(row)}`) : null,
      ),
      el('td', {}, row.backupPath ? el('span', { className: 'path', attrs: { title: row.backupPath } }, archiveFileName(row.backupPath)) : (row.message ?? '-')),
      el(
        'td',
        { className: 'actions' },
        context !== null &&
          button('Chart', () => this.controls.showChart({ context, namespace: row.namespace, pvc: row.pvcName }), {
            focusKey: `chart:${row.id}`,
            attrs: { 'aria-label': `Chart the backups of ${volume}` },
          }),
        row.backupPath !== null &&
          button('Reveal', () => this.controls.revealArchive(row.backupPath!), {
            focusKey: `reveal:${row.id}`,
            attrs: { 'aria-label': `Reveal the archive of ${volume} from ${row.createdAt}` },
          }),
        hasArchive(row) &&
          button('Restore…', () => this.controls.restoreBackup(row.id), {
            focusKey: `restore:${row.id}`,
            testId: 'history-restore',
            attrs: { 'aria-label': `Restore the backup of ${volume} from ${row.createdAt}` },
          }),
        hasArchive(row) &&
          button('Verify', () => this.controls.verifyBackup(row.id), {
            focusKey: `verify:${row.id}`,
            attrs: { 'aria-label': `Verify the archive of ${volume} from ${row.createdAt}` },
          }),
        hasArchive(row) &&
          button('Test Restore…', () => this.controls.drillBackup(row.id), {
            focusKey: `drill:${row.id}`,
            testId: 'history-drill',
            attrs: { 'aria-label': `Restore the backup of ${volume} from ${row.createdAt} into a temporary claim and compare every file` },
          }),
        hasArchive(row) &&
          row.kind === 'incremental' &&
          row.status === 'success' &&
          button('Consolidate', () => this.controls.consolidateBackup(row.id), {
            focusKey: `consolidate:${row.id}`,
            testId: 'history-consolidate',
            attrs: { 'aria-label': `Merge the chain of the backup of ${volume} from ${row.createdAt} into a new full backup` },
          }),
      ),
    );
  }

  private select(field: FilterField): HTMLSelectElement {
    const select = el('select', { testId: `history-filter-${field}` });
    select.addEventListener('change', () => {
      const current = this.history?.filter ?? {};
      const value = select.value === '' ? undefined : select.value;
      const changed = { ...current, [field]: value } as ReportHistoryFilter;
      this.controls.queryHistory(narrowFilter(this.known, changed), 0);
    });
    return select;
  }

  private goTo(step: number): void {
    if (!this.history) return;
    this.controls.queryHistory(this.history.filter, Math.max(0, this.history.page + step));
  }
}

/** Rebuilds a dropdown's options only when they changed, so an open dropdown survives live updates. */
function setOptions(select: HTMLSelectElement, options: readonly { value: string; label: string }[], selected: string | undefined, allLabel: string): void {
  const wanted = [{ value: '', label: allLabel }, ...options];
  const same = select.options.length === wanted.length && wanted.every((o, i) => select.options[i]?.value === o.value && select.options[i]?.text === o.label);
  if (!same) {
    select.replaceChildren(...wanted.map((o) => el('option', { attrs: { value: o.value } }, o.label)));
  }
  select.value = selected ?? '';
}
