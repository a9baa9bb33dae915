// The report webview's built bundle in real Chromium, under the panel's own HTML and CSP, with the
// VS Code host replaced by a recorder: what the user sees and what the webview asks the host for.
import * as assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { runSummary, type RunReport } from '../../src/core/backup/runReport';
import { actionableFailures } from '../../src/core/report/actionableFailures';
import { chartPoints } from '../../src/report/chartPoints';
import { knownVolumes } from '../../src/report/knownVolumes';
import { reportHtml } from '../../src/report/reportHtml';
import type { ReportHostMessage, ReportLatestRun, ReportViewState, ReportWebviewMessage } from '../../src/report/reportProtocol';
import { launchChromium } from '../harness/browser';
import { HOSTILE_PVC, HOSTILE_STDERR, LIVE_NOTE, SNAPSHOT_NAME, finishedRun, historyFixture, historyRows, readHistoryFixture, readRun, runningRun } from '../unit/report/reportFixtures';
import { historyHookRuns } from '../../src/core/report/reportHookRuns';
import { screenshotDir } from './workbench';

const repoRoot = path.resolve(__dirname, '../..');
const ORIGIN = 'https://report.test';

interface Recorded {
  posted: ReportWebviewMessage[];
  state: unknown;
  violations: string[];
}

declare global {
  interface Window {
    __report: Recorded;
  }
}

/**
 * Stands in for VS Code's `acquireVsCodeApi` and records CSP violations. A string, not a function:
 * the test runner's compiler would add helpers to a function that do not exist in the page.
 */
function fakeVsCodeApi(savedState: unknown): string {
  return `
    const recorded = { posted: [], state: ${JSON.stringify(savedState ?? null)} ?? undefined, violations: [] };
    window.__report = recorded;
    document.addEventListener('securitypolicyviolation', (e) => recorded.violations.push(e.violatedDirective + ' ' + e.blockedURI));
    window.acquireVsCodeApi = () => ({
      postMessage: (message) => recorded.posted.push(JSON.parse(JSON.stringify(message))),
      getState: () => recorded.state,
      setState: (state) => { recorded.state = state; },
    });`;
}

function latestOf(run: RunReport): ReportLatestRun {
  return { run, summary: runSummary(run), failures: actionableFailures(run) };
}

describe('Report webview (bundle in Chromium)', function () {
  this.timeout(60_000);
  let scratch: string;
  let browser: Browser;
  let page: Page;
  let dialogs: string[];
  let pageErrors: string[];

  before(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'nkvm-report-ui-'));
    browser = await launchChromium(scratch);
  });
  after(async () => {
    await browser?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  /** Opens the webview as VS Code would, optionally with the state a previous session saved. */
  async function open(savedState?: unknown): Promise<void> {
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    dialogs = [];
    pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.addInitScript({ content: fakeVsCodeApi(savedState) });
    await page.route(`${ORIGIN}/**`, async (route) => {
      const url = new URL(route.request().url());
      if (url.pathname === '/index.html') {
        const body = reportHtml({ cspSource: ORIGIN, nonce: 'b2f0c1e4-8d7a-4f3b-9e61-5a2c7d9e0f13', scriptUri: `${ORIGIN}/dist/webview/report.js`, styleUri: `${ORIGIN}/media/report.css` });
        return route.fulfill({ contentType: 'text/html', body });
      }
      const file = path.join(repoRoot, url.pathname);
      const contentType = file.endsWith('.css') ? 'text/css' : 'text/javascript';
      return route.fulfill({ contentType, body: await readFile(file) });
    });
    await page.goto(`${ORIGIN}/index.html`);
    // Polled with evaluate: waitForFunction compiles code in the page, which the CSP rightly forbids.
    for (const deadline = Date.now() + 10_000; !(await page.evaluate(() => window.__report.posted.some((m) => m.type === 'ready'))); ) {
      if (Date.now() > deadline) throw new Error(`the webview never sent "ready"; page errors: ${pageErrors.join('; ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function send(message: ReportHostMessage): Promise<void> {
    await page.evaluate((m) => window.postMessage(m, '*'), message);
  }

  async function posted(): Promise<ReportWebviewMessage[]> {
    return page.evaluate(() => window.__report.posted);
  }

  async function fullState(run: RunReport | undefined): Promise<ReportViewState> {
    const rows = await historyRows(historyFixture);
    const postgres = rows.filter((r) => r.pvcName === 'postgres-data');
    return {
      latest: run && latestOf(run),
      history: { filter: {}, page: 0, pageSize: 20, total: rows.length, rows },
      knownVolumes: knownVolumes(rows, run),
      chart: { volume: { context: 'kind-dev', namespace: 'shop', pvc: 'postgres-data' }, points: chartPoints(postgres) },
    };
  }

  afterEach(async function () {
    if (page) {
      const violations = await page.evaluate(() => window.__report.violations);
      await page.screenshot({ path: path.join(screenshotDir, `report-webview-${this.currentTest?.title.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => undefined);
      await page.close();
      assert.deepEqual(violations, [], 'the content security policy blocked nothing');
      assert.deepEqual(pageErrors, [], 'the script threw nothing');
    }
  });

  it('asks for its state once loaded and shows the empty states', async () => {
    await open();
    assert.deepEqual((await posted())[0], { type: 'ready', ui: { filter: {}, page: 0 } });
    await send({ type: 'state', state: { history: { filter: {}, page: 0, pageSize: 20, total: 0, rows: [] }, knownVolumes: [] } });
    await page.getByTestId('latest-run').getByText('No backup has run in this window yet — run NKVM: Back Up Volumes…').waitFor();
    assert.equal(await page.getByTestId('history-empty').textContent(), 'No history yet');
    assert.equal(await page.getByTestId('chart-empty').textContent(), 'No history yet');
    assert.equal(await page.getByTestId('history-page-label').textContent(), '0 of 0');
  });

  it('shows a PVC named like an HTML tag as text and runs none of it', async () => {
    await open();
    await send({ type: 'state', state: await fullState(finishedRun()) });
    await page.getByTestId('latest-run-table').waitFor();
    assert.equal(await page.locator('img').count(), 0);
    assert.ok((await page.getByTestId('latest-run').textContent())!.includes(`shop/${HOSTILE_PVC}`));
    assert.ok((await page.getByTestId('failures').textContent())!.includes(`shop/${HOSTILE_PVC}`));
    assert.ok((await page.getByTestId('history').textContent())!.includes(HOSTILE_PVC));
    assert.deepEqual(dialogs, []);
  });

  it('lists each failure with its cause, events and triage commands ready to copy', async () => {
    await open();
    await send({ type: 'state', state: await fullState(finishedRun()) });
    const failures = page.getByTestId('failure');
    await failures.first().waitFor();
    assert.equal(await failures.count(), 3);
    const ledger = failures.filter({ hasText: 'billing/ledger' });
    assert.ok((await ledger.locator('blockquote').textContent())!.includes('0/3 nodes are available: 3 Insufficient memory'));
    const events = ledger.getByTestId('triage-command').filter({ hasText: 'latest events' });
    const command = await events.locator('pre').textContent();
    assert.equal(command, 'kubectl --context gke_shop-prod_europe-west1_main -n billing get events --sort-by=.lastTimestamp | tail -n 40');
    await events.getByRole('button', { name: /Copy the command/ }).click();
    await page.getByTestId('rerun-failed').click();
    const messages = await posted();
    assert.deepEqual(messages.slice(-2), [{ type: 'copyText', text: command }, { type: 'rerunFailed' }]);
    assert.match((await page.getByTestId('notice').textContent())!, /Starting the failed volumes again/);
  });

  it('copies the full checksum and asks to reveal the archive of a row', async () => {
    await open();
    await send({ type: 'state', state: await fullState(finishedRun()) });
    const row = page.getByTestId('latest-run-table').locator('tbody tr').first();
    await row.getByRole('button', { name: 'Copy the SHA-256 of shop/postgres-data' }).click();
    await row.getByRole('button', { name: 'Reveal the archive of shop/postgres-data' }).click();
    const run = finishedRun();
    assert.deepEqual((await posted()).slice(-2), [
      { type: 'copyText', text: run.rows[0]!.checksum },
      { type: 'revealArchive', path: run.rows[0]!.archivePath },
    ]);
  });

  it('updates a running row live, keeps keyboard focus, and announces only finished volumes', async () => {
    await open();
    const running = runningRun();
    await send({ type: 'state', state: { ...(await fullState(undefined)), latest: latestOf(running) } });
    await page.getByTestId('latest-run-table').waitFor();
    assert.ok((await page.getByTestId('latest-run-table').textContent())!.includes('3.0 MiB at 1.5 MiB/s'));
    assert.equal(await page.getByTestId('latest-run-table').locator('progress').count(), 1);
    await page.getByTestId('export-json').focus();
    const status = await page.getByTestId('run-status').textContent();
    assert.equal(status, 'Run in progress: 0 of 2 volumes finished, 0 backed up.');
    assert.equal(await page.getByTestId('run-status').getAttribute('aria-live'), 'polite');

    const finished = finishedRun();
    await send({ type: 'runUpdated', latest: latestOf(finished) });
    await page.getByTestId('failure').first().waitFor();
    await page.getByTestId('latest-run-table').locator('tbody tr').first().getByRole('button', { name: /Copy the SHA-256/ }).focus();
    await send({ type: 'runUpdated', latest: latestOf(finished) });
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Copy the SHA-256 of shop/postgres-data');
    assert.equal(await page.getByTestId('run-status').textContent(), 'Run finished: 1 backed up, 3 failed.');
  });

  it('pages and filters the history, and remembers where it was', async () => {
    await open();
    const rows = await historyRows(historyFixture);
    const state = await fullState(undefined);
    await send({ type: 'state', state: { ...state, history: { filter: {}, page: 1, pageSize: 20, total: 57, rows } } });
    assert.equal(await page.getByTestId('history-page-label').textContent(), '21–40 of 57');
    await page.getByTestId('history-next').click();
    assert.deepEqual((await posted()).at(-1), { type: 'queryHistory', filter: {}, page: 2 });
    await page.getByTestId('history-filter-status').selectOption('failed');
    assert.deepEqual((await posted()).at(-1), { type: 'queryHistory', filter: { status: 'failed' }, page: 0 });
    await send({ type: 'historyPage', history: { filter: { status: 'failed' }, page: 0, pageSize: 20, total: 0, rows: [] }, knownVolumes: state.knownVolumes });
    assert.equal(await page.getByTestId('history-empty').textContent(), 'No backups match these filters.');
    assert.equal(await page.getByTestId('history-previous').isDisabled(), true);
    assert.equal(await page.getByTestId('history-next').isDisabled(), true);
    const saved = await page.evaluate(() => window.__report.state);
    assert.deepEqual(saved, { filter: { status: 'failed' }, page: 0, chart: { context: 'kind-dev', namespace: 'shop', pvc: 'postgres-data' } });

    await page.close();
    await open(saved);
    assert.deepEqual((await posted())[0], { type: 'ready', ui: saved });
  });

  it('charts size and duration with labelled axes and a text summary, and switches volume from the history', async () => {
    await open();
    const state = await fullState(finishedRun());
    const points = [
      { at: '2026-11-25T08:00:00.000Z', status: 'success' as const, sizeBytes: 2 * 1024 * 1024, durationMs: 4000 },
      { at: '2026-11-26T08:00:00.000Z', status: 'failed' as const, sizeBytes: null, durationMs: 1500 },
      { at: '2026-11-27T08:00:00.000Z', status: 'success' as const, sizeBytes: 3.5 * 1024 * 1024, durationMs: 8100 },
    ];
    await send({ type: 'state', state: { ...state, chart: { volume: state.chart!.volume, points } } });
    const size = page.getByTestId('chart-sizeBytes');
    await size.waitFor();
    assert.equal(await size.getAttribute('role'), 'img');
    assert.equal(await size.locator('circle').count(), 2);
    assert.equal(await page.getByTestId('chart-durationMs').locator('path.point-bad').count(), 1);
    assert.ok((await size.locator('text').allTextContents()).includes('Size'));
    assert.match((await page.getByTestId('chart-summary').textContent())!, /^3 backups of shop\/postgres-data on kind-dev between .*Archive size: latest 3\.5 MiB/);

    await page.getByTestId('history-table').getByRole('button', { name: `Chart the backups of shop/${HOSTILE_PVC}` }).click();
    assert.deepEqual((await posted()).at(-1), { type: 'chartFor', context: 'kind-dev', namespace: 'shop', pvc: HOSTILE_PVC });
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'chart-heading');
  });

  it('shows how each backup read its volume and the hooks that ran, with a failed hook output as text beside its triage commands', async () => {
    await open();
    const rows = (await historyRows(readHistoryFixture)).map((row) => (row.hooks ? { ...row, hookRuns: historyHookRuns(row) } : row));
    const run = readRun();
    await send({ type: 'state', state: { latest: latestOf(run), history: { filter: {}, page: 0, pageSize: 20, total: rows.length, rows }, knownVolumes: knownVolumes(rows, run) } });
    const latest = page.getByTestId('latest-run-table');
    await latest.waitFor();
    const row = (pvc: string) => latest.locator('tbody tr').filter({ hasText: pvc });
    assert.equal(await row('data-orders-db-0').getByTestId('read').locator('.read-badge').textContent(), 'snapshot');
    assert.ok((await row('data-orders-db-0').getByTestId('read-snapshot').textContent())!.startsWith(`${SNAPSHOT_NAME} at `));
    assert.deepEqual(await row('data-orders-db-0').getByTestId('hook-runs').locator('li').allTextContents(), [
      'pre hook in shop/orders-db-0 (postgres): exit 0 in 0.4 s',
      'post hook in shop/orders-db-0 (postgres): exit 0 in 0.1 s',
    ]);
    assert.equal(await row('analytics/reports').locator('.read-badge').textContent(), 'live');
    assert.equal(await row('analytics/reports').getByTestId('read-note').textContent(), `auto read live: ${LIVE_NOTE}`);

    const failure = page.getByTestId('failure');
    assert.equal(await failure.count(), 1);
    assert.ok((await failure.locator('dl').textContent())!.includes('Stagehook'));
    assert.equal(await failure.getByTestId('hook-failure').count(), 1, 'only the failed hook shows its output');
    assert.equal(await failure.getByTestId('hook-stderr').textContent(), HOSTILE_STDERR);
    assert.ok((await failure.getByTestId('hook-failure').textContent())!.includes('1200 bytes before it were not kept'));
    assert.equal(await failure.getByTestId('hook-stdout').textContent(), 'LOCK TABLE\n');
    assert.equal(await page.locator('script').count(), 1, 'the hook output added no script');
    assert.deepEqual(dialogs, []);
    const triage = await failure.getByTestId('triage-command').locator('pre').allTextContents();
    assert.ok(triage.includes('kubectl --context kind-dev -n shop describe pod ledger-db-0'), triage.join('\n'));

    const history = page.getByTestId('history-table');
    const historyRow = (pvc: string) => history.locator('tbody tr').filter({ hasText: pvc });
    assert.equal(await historyRow('data-orders-db-0').locator('.read-badge').textContent(), 'snapshot');
    assert.ok((await historyRow('data-orders-db-0').getByTestId('read-snapshot').textContent())!.includes(SNAPSHOT_NAME));
    assert.equal(await historyRow('data-orders-db-0').getByTestId('hook-details').locator('summary').textContent(), '2 hooks');
    assert.equal(await historyRow('data-orders-db-0').getByTestId('hook-runs').locator('li').count(), 2);
    assert.equal(await historyRow('analytics/reports').locator('.read-badge').textContent(), 'live');
    assert.equal(await historyRow('data-ledger-db-0').locator('.read-badge').count(), 0);
    const ledgerHooks = historyRow('data-ledger-db-0').getByTestId('hook-details');
    assert.equal(await ledgerHooks.locator('summary').textContent(), '1 hook, 1 failed');
    await ledgerHooks.locator('summary').click();
    assert.equal(await ledgerHooks.locator('li.hook-failed').textContent(), 'pre hook in shop/ledger-db-0 (postgres): exit 3 in 0.4 s');
  });
});
