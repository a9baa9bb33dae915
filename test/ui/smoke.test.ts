import * as assert from 'node:assert/strict';
import { openWorkbench, type Workbench } from './workbench';

describe('Workbench smoke', function () {
  // Starting code-server and the browser takes a few seconds before any test can run.
  this.timeout(120_000);
  let workbench: Workbench | undefined;

  before(async () => {
    workbench = await openWorkbench();
  });

  after(async () => {
    await workbench?.close();
  });

  it('"NKVM: Show Log" opens the extension log in the Output panel', async () => {
    const { page } = workbench!;
    await workbench!.runCommand('NKVM: Show Log');
    const panel = page.locator('.part.panel');
    await panel.locator('.view-lines', { hasText: '[extension] activated' }).waitFor({ timeout: 15_000 });
    const selected = await panel.locator('select.monaco-select-box').first().evaluate((s: HTMLSelectElement) => s.selectedOptions[0]?.text);
    await workbench!.screenshot('smoke-show-log');
    assert.equal(selected, 'Nerdy K8s Volume Manager');
  });

  it('the Volume Backups view welcomes a user without a cluster with what to do next', async () => {
    const { page } = workbench!;
    await workbench!.clickActivityBarIcon('Volume Backups');
    const welcome = page.locator('[id="workbench.view.extension.nkvm"] .welcome-view-content');
    await welcome.getByText('No cluster was found').waitFor({ timeout: 30_000 });
    assert.ok(await welcome.getByRole('button', { name: 'Add Kubeconfig from Clipboard' }).isVisible());
    await workbench!.screenshot('welcome');
  });
});
