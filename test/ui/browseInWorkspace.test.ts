import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { SandboxCluster } from '../sandbox/sandboxCluster';
import { backUpArchive2019 } from './demoBackup';
import { startDemoWorkspace } from './demoWorkspace';
import { openWorkbench, type Workbench } from './workbench';

describe('Opening a backup as a folder of a multi-root workspace (UI)', function () {
  this.timeout(240_000);
  let dir: string;
  let cluster: SandboxCluster;
  let workbench: Workbench;
  let page: Page;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nkvm-ui-browse-ws-'));
    let workspace: string;
    let kubeconfig: string;
    ({ cluster, workspace, kubeconfig } = await startDemoWorkspace(dir));
    await backUpArchive2019(workspace, kubeconfig);
    const workspaceFile = path.join(dir, 'project.code-workspace');
    writeFileSync(workspaceFile, JSON.stringify({ folders: [{ path: workspace }] }));
    workbench = await openWorkbench({ folder: workspaceFile, settings: { 'workbench.tree.expandMode': 'doubleClick' } });
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
  const explorerRow = (name: string | RegExp) =>
    page.locator('.explorer-folders-view .monaco-list-row', { has: page.locator('.label-name', { hasText: name }) });

  it('adds the backup to the Explorer as one more read-only folder, in place, and opens a file from it', async () => {
    const before = page.url();
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => frame === page.mainFrame() && navigations.push(frame.url()));
    await workbench.clickActivityBarIcon('Volume Backups');
    await row('sandbox').locator('.monaco-tl-twistie').click();
    await row('media').locator('.monaco-tl-twistie').click();
    await row('archive-2019').locator('.monaco-tl-twistie').click();
    const backup = workbench.view('nkvm').locator('.monaco-list-row', { has: page.locator('.label-description', { hasText: /^success · / }) }).first();
    await backup.waitFor({ timeout: 30_000 });
    await backup.click({ button: 'right' });
    await workbench.chooseMenuItem('Open Backup as Folder');
    const folder = explorerRow(/^archive-2019 @ .* \(backup\)$/);
    await folder.waitFor({ timeout: 30_000 });
    // Listed expanded, as the Explorer shows a root it was just given.
    const notesRow = explorerRow(/^notes\.txt$/);
    await notesRow.click();
    await page.locator('.editor-instance .view-lines').getByText('Nothing mounts this claim').waitFor({ timeout: 30_000 });
    assert.match(await page.locator('.tabs-container .tab.active').innerText(), /notes\.txt/);
    // A workspace takes the folder without reopening the window, and the project's folder is still listed first.
    assert.equal(page.url(), before);
    assert.deepEqual(navigations, []);
    assert.equal(await explorerRow(/^workspace$/).count(), 1);
    await workbench.screenshot('browse-backup-in-workspace');
  });
});
