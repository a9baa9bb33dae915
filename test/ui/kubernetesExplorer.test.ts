import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { SandboxCluster } from '../sandbox/sandboxCluster';
import { openWorkbench, type Workbench } from './workbench';
import { startDemoWorkspace } from './demoWorkspace';

// Stands in for ms-kubernetes-tools.vscode-kubernetes-tools, which cannot be fetched from the Marketplace here.
const kubernetesExtensionDir = path.resolve(__dirname, '../fixtures/kubernetes-extension');

describe('Backing up from the Kubernetes extension\'s Cluster Explorer (UI)', function () {
  this.timeout(180_000);
  let dir: string;
  let workspace: string;
  let cluster: SandboxCluster;
  let workbench: Workbench;
  let page: Page;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nkvm-ui-k8s-explorer-'));
    const vsixDir = path.join(dir, 'vsix');
    mkdirSync(vsixDir);
    const vsix = path.join(vsixDir, 'vscode-kubernetes-tools.vsix');
    execFileSync('npx', ['vsce', 'package', '--no-dependencies', '--allow-missing-repository', '--skip-license', '--out', vsix], {
      cwd: kubernetesExtensionDir,
      stdio: 'pipe',
    });

    ({ cluster, workspace } = await startDemoWorkspace(dir));
    const claims = path.join(dir, 'explorer-claims.json');
    writeFileSync(claims, JSON.stringify(['shop/storefront-uploads', 'media/archive-2019']));

    workbench = await openWorkbench({
      folder: workspace,
      companionVsixPaths: [vsix],
      settings: { 'workbench.colorTheme': 'Default Light Modern', 'kubernetesDouble.pvcs': claims },
    });
    page = workbench.page;
  });

  after(async () => {
    await workbench?.close();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const row = (text: string) => workbench.treeRow('kubernetesView', text);

  it('offers "Back Up Volumes..." on a claim in the Clusters view and backs it up in the current context', async () => {
    await workbench.clickActivityBarIcon('Kubernetes');
    await row('storefront-uploads').waitFor({ timeout: 30_000 });
    await row('archive-2019').waitFor();

    await row('storefront-uploads').click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'Back Up Volumes...' }).waitFor({ timeout: 15_000 });
    await workbench.screenshot('kubernetes-explorer-menu');
    await workbench.chooseMenuItem('Back Up Volumes...');

    const summary = page.locator('.notifications-toasts .notification-list-item', { hasText: '1 backed up' });
    await summary.waitFor({ timeout: 90_000 });
    assert.doesNotMatch(await summary.innerText(), /failed/);

    const archiveDir = path.join(workspace, 'backups', 'sandbox', 'shop', 'storefront-uploads');
    assert.ok(existsSync(archiveDir), `${archiveDir} should exist`);
    const archives = readdirSync(archiveDir).filter((f) => f.endsWith('.tar.gz'));
    assert.equal(archives.length, 1, `archives in ${archiveDir}: ${readdirSync(archiveDir).join(', ')}`);
    assert.ok(statSync(path.join(archiveDir, archives[0]!)).size > 0);
    // Only the right-clicked claim was backed up.
    assert.ok(!existsSync(path.join(workspace, 'backups', 'sandbox', 'media')));
  });
});
