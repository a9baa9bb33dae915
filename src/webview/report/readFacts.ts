import type { BackupConsistency } from '../../core/history/historyRecord';
import type { ReportHookRun } from '../../core/report/reportModel';
import { el } from './elements';
import type { ReadView } from './runRows';
import { timeElement } from './timeText';

const BADGE_TITLE: Record<BackupConsistency, string> = {
  snapshot: 'Read from a VolumeSnapshot: every file is as it was at one instant',
  live: 'Read live: files may have changed while they were read',
};

/** A small badge (`snapshot` or `live`), the snapshot's name and time, and why a backup fell back to live. */
export function readCell(view: ReadView): HTMLElement | string {
  if (!view.consistency) return '-';
  return el(
    'span',
    { testId: 'read' },
    el('span', { className: `read-badge read-${view.consistency}`, attrs: { title: BADGE_TITLE[view.consistency] } }, view.consistency),
    view.consistency === 'snapshot' &&
      el(
        'span',
        { className: 'muted block', testId: 'read-snapshot' },
        view.snapshotName ? el('code', {}, view.snapshotName) : 'name not recorded',
        view.snapshotAt ? ' at ' : '',
        view.snapshotAt ? timeElement(view.snapshotAt) : '',
      ),
    view.consistency === 'live' && view.consistencyNote ? el('span', { className: 'muted block read-note', testId: 'read-note' }, `auto read live: ${view.consistencyNote}`) : null,
  );
}

/** One line per hook (`pre hook in shop/db-0 (pg): exit 0 in 0.4 s`); those that did not succeed are marked. */
export function hookList(runs: readonly ReportHookRun[]): HTMLElement | string {
  if (!runs.length) return '-';
  return el(
    'ul',
    { className: 'hook-runs', testId: 'hook-runs' },
    ...runs.map((run) => el('li', { className: run.outcome === 'ok' ? 'hook-ok' : 'hook-failed', attrs: { 'data-outcome': run.outcome } }, run.summary)),
  );
}

/** The hooks folded under a count (`2 hooks, 1 failed`), for the narrow history table. */
export function hookDetails(runs: readonly ReportHookRun[]): HTMLElement | string {
  if (!runs.length) return '-';
  const failed = runs.filter((r) => r.outcome !== 'ok').length;
  const count = `${runs.length} hook${runs.length === 1 ? '' : 's'}${failed ? `, ${failed} failed` : ''}`;
  return el('details', { className: 'hook-details', testId: 'hook-details' }, el('summary', {}, count), hookList(runs));
}

/** The end of a failed hook's output, as text, with how much came before it and was not kept. */
export function hookOutput(run: ReportHookRun): HTMLElement {
  const stream = (name: string, text: string, cut: number): HTMLElement | null =>
    text || cut
      ? el(
          'div',
          { className: 'hook-output' },
          el('p', { className: 'muted' }, `${name}${cut ? ` (its end; ${cut} bytes before it were not kept)` : ''}`),
          el('pre', { testId: `hook-${name}` }, text),
        )
      : null;
  return el(
    'div',
    { className: 'hook-failure', testId: 'hook-failure' },
    el('p', {}, run.summary),
    el('p', { className: 'muted' }, 'Command: ', el('code', {}, JSON.stringify(run.command))),
    stream('stderr', run.stderr, run.stderrCutBytes),
    stream('stdout', run.stdout, run.stdoutCutBytes),
  );
}
