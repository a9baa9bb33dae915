import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { findResourceType } from '../sandbox/resourceTypes';
import { SandboxCluster } from '../sandbox/sandboxCluster';
import { backUpArchive2019 } from './demoBackup';
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
    await backUpArchive2019(workspace, kubeconfig);
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
  // The Explorer's "Backup Files" view, where a window opened on one folder shows an opened backup.
  const backupFiles = () => page.locator('.pane', { has: page.locator('.pane-header h3.title', { hasText: /^Backup Files$/ }) });
  const fileRow = (name: string | RegExp) => backupFiles().locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: name }) });

  it('opens a backup from the tree in the Explorer without reloading the window, and shows a file from it', async () => {
    const before = page.url();
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => frame === page.mainFrame() && navigations.push(frame.url()));
    await workbench.clickActivityBarIcon('Volume Backups');
    await row('sandbox').locator('.monaco-tl-twistie').click();
    await row('media').locator('.monaco-tl-twistie').click();
    await row('archive-2019').locator('.monaco-tl-twistie').click();
    const backup = view().locator('.monaco-list-row', { has: page.locator('.label-description', { hasText: /^success · / }) }).first();
    await backup.waitFor({ timeout: 30_000 });
    await backup.click({ button: 'right' });
    await workbench.chooseMenuItem('Open Backup as Folder');
    const root = fileRow(/^archive-2019$/);
    await root.waitFor({ timeout: 30_000 });
    assert.match(await root.locator('.label-description').innerText(), /^media · \d{4}-\d\d-\d\d \d\d:\d\d$/);
    // Listed expanded, folders first: the archive's own top level.
    await fileRow(/^photos$/).waitFor({ timeout: 30_000 });
    const notesRow = fileRow(/^notes\.txt$/);
    await notesRow.click();
    const editor = page.locator('.editor-instance .view-lines');
    await editor.getByText('Nothing mounts this claim').waitFor({ timeout: 30_000 });
    assert.match(await page.locator('.tabs-container .tab.active').innerText(), /notes\.txt/);
    // The window stayed the one the user opened: same folder, no reload, nothing lost.
    assert.equal(page.url(), before);
    assert.deepEqual(navigations, []);
    await workbench.screenshot('browse-backup');
  });

  it('restores a file of the opened backup into a new PVC, whose volume then holds exactly that file', async () => {
    await fileRow(/^notes\.txt$/).click({ button: 'right' });
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
    // A new claim is a fresh ext4 disk, whose lost+found comes with it.
    assert.deepEqual(readdirSync(volume).filter((name) => name !== 'lost+found'), ['notes.txt']);
    assert.equal(readFileSync(path.join(volume, 'notes.txt'), 'utf8'), notes);
    const helpers = cluster.store.list(findResourceType('', 'v1', 'pods')!).filter((p) => p.metadata?.labels?.['app.kubernetes.io/component'] === 'backup-helper');
    assert.deepEqual(helpers.map((p) => p.metadata?.name), []);
  });

  it('restoring a backup into its own claim, whose files belong to root, stops before writing and offers root, which then restores', async () => {
    const volume = cluster.volumePath('media', 'archive-2019');
    const backup = view().locator('.monaco-list-row', { has: page.locator('.label-description', { hasText: /^success · / }) }).first();
    if (!(await backup.isVisible())) {
      await workbench.clickActivityBarIcon('Volume Backups');
      await backup.waitFor({ timeout: 30_000 });
    }
    // The tree may still be taking in the claim a restore just created, which moves the rows under the
    // pointer: open the menu again until it is the backup's menu.
    const restoreItem = page.getByRole('menuitem', { name: 'Restore Backup...' });
    for (let attempt = 0; ; attempt++) {
      await backup.click({ button: 'right' });
      if (await restoreItem.waitFor({ timeout: 3_000 }).then(() => true, () => false)) break;
      if (attempt === 4) assert.fail('the backup row never showed its context menu');
      await page.keyboard.press('Escape');
    }
    await workbench.chooseMenuItem('Restore Backup...');
    const quickInput = page.locator('.quick-input-widget');
    await quickInput.locator('.quick-input-list .monaco-list-row', { hasText: 'Into media/archive-2019' }).click();
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
    // The demo's files belong to root and nobody mounts the claim: the non-root helper looks, and stops.
    await dialog.getByText(/stopped before writing: .*belong to uid 0 \(root\)/).waitFor({ timeout: 60_000 });
    await workbench.screenshot('restore-offers-root');
    await dialog.getByRole('button', { name: 'Restore as Root' }).click();
    await notification(/Restored the backup of archive-2019 \(as root\) into media\/archive-2019: \d+ files/).waitFor({ timeout: 120_000 });
    assert.equal(readFileSync(path.join(volume, 'notes.txt'), 'utf8'), notes);
  });
});
