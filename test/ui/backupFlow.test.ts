import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { HistoryStore } from '../../src/core/history/historyStore';
import { SandboxCluster } from '../sandbox/sandboxCluster';
import { openWorkbench, type Workbench } from './workbench';
import { startDemoWorkspace } from './demoWorkspace';

const xssName = '<img src=x onerror=alert(1)>';

describe('Backing up from the Volumes view (UI)', function () {
  this.timeout(180_000);
  let dir: string;
  let cluster: SandboxCluster;
  let workbench: Workbench;
  let page: Page;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nkvm-ui-'));
    let workspace: string;
    ({ cluster, workspace } = await startDemoWorkspace(dir));
    // The helper for this one volume cannot pull its image: the report must show that failure and its next step.
    cluster.faults.inject({ kind: 'imagePull', target: { namespace: 'shop', pod: 'nkvm-backup-data-orders-db-0*' } });
    const db = path.join(workspace, 'data', 'backups.db');
    // A history row whose names came from a hostile cluster: it must render as text.
    const history = await HistoryStore.open(db);
    await history.append({ context: 'sandbox', namespace: 'media', pvcName: xssName, status: 'failed', stage: 'create', message: `create stage failed: ${xssName}` });
    await history.close();
    workbench = await openWorkbench({ folder: workspace, settings: { 'workbench.colorTheme': 'Default Light Modern', 'workbench.tree.expandMode': 'doubleClick' } });
    page = workbench.page;
  });

  afterEach(async function () {
    await workbench?.screenshotIfFailed(this.currentTest);
  });

  after(async () => {
    await workbench?.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const row = (text: string) => workbench.treeRow('nkvm', text);
  const report = (): FrameLocator => page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');

  it('shows clusters, namespaces and claims with their details', async () => {
    await workbench.clickActivityBarIcon('Volume Backups');
    await row('sandbox').locator('.monaco-tl-twistie').click();
    await row('shop').locator('.monaco-tl-twistie').click();
    await row('storefront-uploads').waitFor({ timeout: 30_000 });
    const description = await row('data-orders-db-0').locator('.label-description').textContent();
    assert.equal(description, '10Gi · standard · RWO · Bound');
    await workbench.screenshot('tree');
  });

  it('backs up two selected volumes from the context menu with a progress notification, then reports one success and one failure', async () => {
    await row('data-orders-db-0').click();
    await row('storefront-uploads').click({ modifiers: ['Control'] });
    await row('storefront-uploads').click({ button: 'right' });
    await workbench.chooseMenuItem('Back Up Volumes...');
    const progress = page.locator('.notifications-toasts .notification-list-item', { hasText: 'Backing up 2 volumes' });
    await progress.waitFor({ timeout: 30_000 });
    await page.waitForTimeout(400); // the toast fades in
    await workbench.screenshot('progress');
    const summary = page.locator('.notifications-toasts .notification-list-item', { hasText: '1 backed up, 1 failed' });
    await summary.waitFor({ timeout: 60_000 });
    await summary.locator('.monaco-button', { hasText: 'Open Report' }).click();

    const latest = report().locator('[data-testid="latest-run"]');
    await latest.getByText('storefront-uploads').first().waitFor({ timeout: 30_000 });
    const failures = report().locator('[data-testid="failures"]');
    await failures.getByText('data-orders-db-0').first().waitFor();
    const failureText = await failures.innerText();
    assert.match(failureText, /wait stage failed: the helper pod cannot start: (ErrImagePull|ImagePullBackOff)/);
    assert.match(failureText, /helper image/);
    assert.match(failureText, /kubectl --context sandbox auth can-i create pods --subresource=exec --namespace shop/);
    assert.match(await latest.innerText(), /Backed up/);
    await workbench.screenshot('report-light');
  });

  it('renders names from the cluster as text, never as markup', async () => {
    const history = report().locator('[data-testid="history"]');
    await history.getByRole('cell', { name: /data-orders-db-0/ }).first().waitFor({ timeout: 15_000 });
    assert.ok((await history.innerText()).includes(xssName), await history.innerText());
    assert.equal(await report().locator('img').count(), 0);
  });

  it('follows the dark theme', async () => {
    await workbench.runCommand('Preferences: Toggle between Light/Dark Themes');
    await page.waitForTimeout(1500);
    const background = await report().locator('body').evaluate((b) => getComputedStyle(b).backgroundColor);
    const [r, g, bl] = (background.match(/\d+/g) ?? ['255', '255', '255']).map(Number);
    assert.ok(r + g + bl < 200, `background ${background} should be dark`);
    await workbench.screenshot('report-dark');
  });

  it('comes back after a window reload, with the history from the database', async () => {
    await workbench.runCommand('Developer: Reload Window');
    await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 60_000 });
    const history = report().locator('[data-testid="history"]');
    await history.getByRole('cell', { name: /storefront-uploads/ }).first().waitFor({ timeout: 60_000 });
    assert.match(await history.innerText(), /data-orders-db-0/);
  });
});
