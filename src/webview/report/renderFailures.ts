import type { ActionableFailure } from '../../core/report/reportModel';
import type { ReportLatestRun } from '../../report/reportProtocol';
import { button, el, replaceChildren } from './elements';
import { outcomeBadge } from './outcomeBadge';
import { hookList, hookOutput } from './readFacts';
import type { ReportControls } from './reportControls';
import { canRerunFailed } from './runRows';

export function renderFailures(body: HTMLElement, latest: ReportLatestRun | undefined, controls: ReportControls): void {
  if (!latest) {
    replaceChildren(body, el('p', { className: 'empty' }, 'Nothing to act on: no backup has run in this window yet.'));
    return;
  }
  if (latest.failures.length === 0) {
    const text = latest.run.finishedAt ? 'No failures: every volume of the latest run was backed up and verified.' : 'No failures so far.';
    replaceChildren(body, el('p', { className: 'empty', testId: 'failures-empty' }, text));
    return;
  }
  const rerun = button('Re-run failed', () => controls.rerunFailed(), {
    className: 'primary',
    testId: 'rerun-failed',
    focusKey: 'rerun-failed',
    attrs: { title: 'Back up the failed, partial and cancelled volumes of the latest run again' },
  });
  rerun.disabled = !canRerunFailed(latest);
  replaceChildren(
    body,
    el('div', { className: 'toolbar' }, rerun),
    ...latest.failures.map((failure, index) => failureArticle(failure, index, controls)),
  );
}

function failureArticle(failure: ActionableFailure, index: number, controls: ReportControls): HTMLElement {
  const headingId = `failure-${index}`;
  const volume = `${failure.namespace}/${failure.pvc}`;
  const facts: [string, string][] = [
    ['Stage', failure.stage ?? 'unknown'],
    ['Cause', failure.cause],
    ['Next step', failure.nextStep ?? 'Run the triage commands below.'],
  ];
  if (failure.helperPod) facts.push(['Helper pod', failure.helperPod]);
  if (failure.consistency === 'snapshot') facts.push(['Read', `from VolumeSnapshot ${failure.snapshotName ?? '(name not recorded)'}`]);
  if (failure.consistency === 'live') facts.push(['Read', failure.consistencyNote ? `live: ${failure.consistencyNote}` : 'live']);
  const failedHooks = failure.hooks.filter((h) => h.outcome !== 'ok');
  return el(
    'article',
    { className: 'failure', testId: 'failure', attrs: { 'aria-labelledby': headingId } },
    el('h3', { id: headingId }, outcomeBadge(failure.state), ` ${volume} `, el('span', { className: 'muted' }, `on ${failure.context}`)),
    el('dl', { className: 'facts' }, ...facts.flatMap(([term, text]) => [el('dt', {}, term), el('dd', {}, text)])),
    failure.events.length > 0 &&
      el('div', {}, el('h4', {}, 'Pod events'), el('blockquote', { className: 'events' }, el('ul', {}, ...failure.events.map((e) => el('li', {}, e))))),
    failure.hooks.length > 0 &&
      el('div', {}, el('h4', {}, 'Hooks'), hookList(failure.hooks), ...failedHooks.map(hookOutput)),
    failure.warnings.length > 0 &&
      el('div', {}, el('h4', {}, 'Warnings from tar'), el('ul', { className: 'warnings' }, ...failure.warnings.map((w) => el('li', {}, w)))),
    el('h4', {}, 'Triage commands'),
    ...failure.triageCommands.map((command, i) =>
      el(
        'div',
        { className: 'command', testId: 'triage-command' },
        el('p', { className: 'command-purpose' }, command.purpose),
        el(
          'div',
          { className: 'with-action' },
          el('pre', {}, el('code', {}, command.command)),
          button('Copy', () => controls.copy(command.command, 'the command'), {
            focusKey: `copy-command:${index}:${i}`,
            attrs: { 'aria-label': `Copy the command: ${command.purpose}` },
          }),
        ),
      ),
    ),
  );
}
