import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Page } from 'playwright-core';
import { runBackups } from '../../src/core/backup/backupRun';
import { HistoryStore } from '../../src/core/history/historyStore';
import { findResourceType } from '../sandbox/resourceTypes';
import { SandboxCluster } from '../sandbox/sandboxCluster';
import { openWorkbench, type Workbench } from './workbench';
import { startDemoWorkspace } from './demoWorkspace';

const notes = 'Nothing mounts this claim; it can be backed up at any time.\n';

describe('Browsing a backup and restoring from it (UI)', function () {
  this.timeout(240_000);
  let dir: string;
  let cluster: SandboxCluster;
  let workbench: Workbench;
  let page: Page;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nkvm-ui-restore-'));
    let workspace: string;
    let kubeconfig: string;
    ({ cluster, workspace, kubeconfig } = await startDemoWorkspace(dir));
    // The backup to browse is made by the engine beforehand; backing up through the UI has its own test.
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfig);
    const history = await HistoryStore.open(path.join(workspace, 'data', 'backups.db'));
    const run = await runBackups([{ context: 'sandbox', namespace: 'media', pvc: 'archive-2019' }], {
      kubeConfigFor: () => kubeConfig,
      settings: { backupDir: path.join(workspace, 'backups'), helperImage: 'alpine:3.20', helperPodTimeoutSeconds: 60 },
      concurrency: 1,
      history,
    });
    await history.close();
    assert.equal(run.results[0].status, 'success', run.results[0].message);
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
  const explorerRow = (name: string | RegExp) => page.locator('.explorer-folders-view .monaco-list-row', { has: page.locator('.label-name', { hasText: name }) });
  const notification = (text: string | RegExp) => page.locator('.notifications-toasts .notification-list-item', { hasText: text });

  it('opens a backup from the tree as a read-only folder in the Explorer and shows a file from it', async () => {
    await workbench.clickActivityBarIcon('Volume Backups');
    await row('sandbox').locator('.monaco-tl-twistie').click();
    await row('media').locator('.monaco-tl-twistie').click();
    await row('archive-2019').locator('.monaco-tl-twistie').click();
    const backup = view().locator('.monaco-list-row', { has: page.locator('.label-description', { hasText: /^success · / }) }).first();
    await backup.waitFor({ timeout: 30_000 });
    await backup.click({ button: 'right' });
    await workbench.chooseMenuItem('Open Backup as Folder');
    // Adding a second folder turns the window into a multi-root workspace, which reloads it in a browser.
    // The page being torn down already lists the new folder, so look only once the reloaded window is up.
    await page.waitForURL(/[?&]workspace=/, { timeout: 60_000 });
    await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 60_000 });
    const folder = explorerRow(/^archive-2019 @ .* \(backup\)$/);
    const shown = await folder.waitFor({ timeout: 20_000 }).then(
      () => true,
      () => false,
    );
    if (!shown) {
      // code-server 4.100.3 sometimes brings the reloaded window up as an empty "Untitled (Workspace)"
      // although the workspace file it reads holds both folders (checked in the user data), and never
      // recovers by itself; a reload of the same address shows them. Said in the output, not hidden.
      process.stdout.write('      note: the reloaded workbench showed an empty workspace; reloading it once\n');
      await workbench.screenshot('browse-backup-empty-workspace');
      await page.reload();
      await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 60_000 });
    }
    await folder.waitFor({ timeout: 60_000 });
    // After the reload the folder can show before the extension has registered its file system;
    // expanding it then fails quietly, so expand it until its files are listed.
    const notesRow = explorerRow(/^notes\.txt$/);
    for (let attempt = 0; !(await notesRow.isVisible()); attempt++) {
      assert.ok(attempt < 20, 'the backup folder never listed its files');
      if ((await folder.getAttribute('aria-expanded')) !== 'true') await folder.locator('.monaco-tl-twistie').click();
      await notesRow.waitFor({ timeout: 3_000 }).catch(() => undefined);
    }
    await notesRow.click();
    const editor = page.locator('.editor-instance .view-lines');
    await editor.getByText('Nothing mounts this claim').waitFor({ timeout: 30_000 });
    assert.match(await page.locator('.tabs-container .tab.active').innerText(), /notes\.txt/);
    await workbench.screenshot('browse-backup');
  });

  it('restores a file of the opened backup into a new PVC, whose volume then holds exactly that file', async () => {
    await explorerRow(/^notes\.txt$/).click({ button: 'right' });
    await workbench.chooseMenuItem('Restore into a PVC...');
    const quickInput = page.locator('.quick-input-widget');
    await quickInput.locator('.quick-input-list .monaco-list-row', { hasText: 'Into a new PVC in media' }).click();
    // Name, size and storage class come prefilled from the source claim: accept each.
    for (const title of ['New PVC in media', 'Size of media/', 'Storage class of media/']) {
      await quickInput.locator('.quick-input-title', { hasText: title }).waitFor({ timeout: 30_000 });
      if (title === 'New PVC in media') assert.match(await quickInput.locator('input.input').inputValue(), /^archive-2019-restored-\d{8}-\d{4}$/);
      await page.keyboard.press('Enter');
    }
    await notification(/Restoring notes\.txt into media\/archive-2019-restored-/).waitFor({ timeout: 30_000 });
    await page.waitForTimeout(400); // the toast fades in
    await workbench.screenshot('restore-progress');
    const done = notification(/Restored notes\.txt into media\/archive-2019-restored-\S+: 1 files/);
    await done.waitFor({ timeout: 120_000 });
    const claim = /media\/(archive-2019-restored-\S+):/.exec(await done.innerText())![1];
    const volume = cluster.volumePath('media', claim);
    assert.deepEqual(readdirSync(volume), ['notes.txt']);
    assert.equal(readFileSync(path.join(volume, 'notes.txt'), 'utf8'), notes);
    const helpers = cluster.store.list(findResourceType('', 'v1', 'pods')!).filter((p) => p.metadata?.labels?.['app.kubernetes.io/component'] === 'backup-helper');
    assert.deepEqual(helpers.map((p) => p.metadata?.name), []);
  });
});
