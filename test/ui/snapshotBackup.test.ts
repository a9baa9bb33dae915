import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { findResourceType } from '../sandbox/resourceTypes';
import { SandboxCluster } from '../sandbox/sandboxCluster';
import { openWorkbench, type Workbench } from './workbench';
import { startDemoWorkspace } from './demoWorkspace';

describe('A point-in-time backup from the Volumes view (UI)', function () {
  this.timeout(180_000);
  let dir: string;
  let cluster: SandboxCluster;
  let workbench: Workbench;
  let page: Page;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nkvm-ui-snap-'));
    let workspace: string;
    ({ cluster, workspace } = await startDemoWorkspace(dir));
    // A snapshot that takes a moment to be ready, as a cloud disk's does: the stage shows in the progress.
    cluster.snapshots.readyDelayMs = 4000;
    workbench = await openWorkbench({ folder: workspace, settings: { 'workbench.tree.expandMode': 'doubleClick', 'nkvm.backup.consistency': 'snapshot' } });
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
  const notification = (text: string | RegExp) => page.locator('.notifications-toasts .notification-list-item', { hasText: text });

  it('backs up a claim from a snapshot, showing the snapshot stage in the progress and the consistency in the tree and the report', async () => {
    await workbench.clickActivityBarIcon('Volume Backups');
    await row('sandbox').locator('.monaco-tl-twistie').click();
    await row('media').locator('.monaco-tl-twistie').click();
    await row('archive-2019').click({ button: 'right' });
    await workbench.chooseMenuItem('Back Up Volumes...');
    await notification(/media\/archive-2019: taking a snapshot/).waitFor({ timeout: 30_000 });
    await page.waitForTimeout(400); // the toast fades in
    await workbench.screenshot('snapshot-progress');
    const done = notification(/1 backed up/);
    await done.waitFor({ timeout: 90_000 });

    await row('archive-2019').locator('.monaco-tl-twistie').click();
    const backup = workbench.view('nkvm').locator('.monaco-list-row', { has: page.locator('.label-description', { hasText: /^success · .*snapshot/ }) }).first();
    await backup.waitFor({ timeout: 30_000 });

    await done.locator('.monaco-button', { hasText: 'Open Report' }).click();
    const latest = report().locator('[data-testid="latest-run"]');
    await latest.getByText('archive-2019').first().waitFor({ timeout: 30_000 });
    assert.match(await latest.innerText(), /snapshot/i);
    await workbench.screenshot('snapshot-report');
    // Nothing of the snapshot stays in the cluster.
    for (const [group, plural] of [['snapshot.storage.k8s.io', 'volumesnapshots'], ['', 'persistentvolumeclaims']] as const) {
      const left = cluster.store.list(findResourceType(group, 'v1', plural)!).filter((o) => o.metadata.name?.startsWith('nkvm-snap-'));
      assert.deepEqual(left.map((o) => o.metadata.name), [], plural);
    }
  });
});
