import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { SandboxCluster } from '../sandbox/sandboxCluster';
import { openWorkbench, type Workbench } from './workbench';
import { startDemoWorkspace } from './demoWorkspace';

describe('A second backup that sends only what changed (UI)', function () {
  this.timeout(240_000);
  let dir: string;
  let cluster: SandboxCluster;
  let workbench: Workbench;
  let page: Page;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nkvm-ui-incremental-'));
    let workspace: string;
    ({ cluster, workspace } = await startDemoWorkspace(dir));
    workbench = await openWorkbench({ folder: workspace, settings: { 'workbench.tree.expandMode': 'doubleClick' } });
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

  const view = () => workbench.view('nkvm');
  const row = (text: string) => workbench.treeRow('nkvm', text);
  const notification = (text: string | RegExp) => page.locator('.notifications-toasts .notification-list-item', { hasText: text });
  const backupFiles = () => page.locator('.pane', { has: page.locator('.pane-header h3.title', { hasText: /^Backup Files$/ }) });
  const fileRow = (name: string | RegExp) => backupFiles().locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: name }) });

  async function backUp(): Promise<Locator> {
    await row('archive-2019').click({ button: 'right' });
    await workbench.chooseMenuItem('Back Up Volumes...');
    const done = notification(/1 backed up/);
    await done.waitFor({ timeout: 90_000 });
    return done;
  }
  const report = (): FrameLocator => page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');

  it('shows the second backup of a claim as incremental with its sent size, and browses it as the whole volume', async () => {
    await workbench.clickActivityBarIcon('Volume Backups');
    await row('sandbox').locator('.monaco-tl-twistie').click();
    await row('media').locator('.monaco-tl-twistie').click();
    const first = await backUp();
    await first.locator('.codicon-notifications-clear').click({ force: true }).catch(() => undefined);
    await first.waitFor({ state: 'detached', timeout: 10_000 }).catch(() => undefined);

    const volume = cluster.volumePath('media', 'archive-2019');
    unlinkSync(path.join(volume, 'notes.txt'));
    writeFileSync(path.join(volume, 'added-later.txt'), 'written after the first backup\n');
    const second = await backUp();
    await second.locator('.monaco-button', { hasText: 'Open Report' }).click();
    // The latest run and the history both say what the second backup is and that its size is what it sent.
    const kind = report().locator('[data-testid="run-kind"]');
    await kind.waitFor({ timeout: 30_000 });
    assert.match(await kind.innerText(), /^sent · incremental on #\d+$/);
    assert.match(await report().locator('[data-testid="history-kind"]').first().innerText(), /^sent · incremental on #\d+$/);
    await workbench.screenshot('incremental-report');

    await row('archive-2019').locator('.monaco-tl-twistie').click();
    const incremental = view().locator('.monaco-list-row', { has: page.locator('.label-description', { hasText: /^success · .*incremental on #\d+ · .+ sent/ }) }).first();
    await incremental.waitFor({ timeout: 30_000 });
    const full = view().locator('.monaco-list-row', { has: page.locator('.label-description', { hasText: /^success · / }) });
    assert.equal(await full.count(), 2, 'both backups are listed under the claim');
    await workbench.screenshot('incremental-backup');

    await incremental.click({ button: 'right' });
    await workbench.chooseMenuItem('Open Backup as Folder');
    await fileRow(/^archive-2019$/).waitFor({ timeout: 30_000 });
    // The merged tree: what the full backup holds, the file added since, and not the one deleted since.
    await fileRow(/^photos$/).waitFor({ timeout: 30_000 });
    await fileRow(/^added-later\.txt$/).waitFor({ timeout: 30_000 });
    assert.equal(await fileRow(/^notes\.txt$/).count(), 0, 'the file deleted before the second backup is gone from it');
    await fileRow(/^added-later\.txt$/).click();
    await page.locator('.editor-instance .view-lines').getByText('written after the first backup').waitFor({ timeout: 30_000 });
    await workbench.screenshot('incremental-browse');
  });
});
