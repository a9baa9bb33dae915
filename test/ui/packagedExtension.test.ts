import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SandboxCluster } from '../sandbox/sandboxCluster';
import { openWorkbench, type Workbench } from './workbench';
import { startDemoWorkspace } from './demoWorkspace';

const repoRoot = path.resolve(__dirname, '../..');

describe('The packaged .vsix (UI)', function () {
  this.timeout(240_000);
  let dir: string;
  let cluster: SandboxCluster;
  let workbench: Workbench;
  let vsix: string;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'nkvm-vsix-'));
    execFileSync('npx', ['vsce', 'package', '--no-dependencies', '--out', dir], { cwd: repoRoot, stdio: 'pipe' });
    vsix = path.join(dir, readdirSync(dir).find((f) => f.endsWith('.vsix'))!);
    let workspace: string;
    ({ cluster, workspace } = await startDemoWorkspace(dir));
    workbench = await openWorkbench({ extension: { vsix }, folder: workspace });
  });

  after(async () => {
    await workbench?.close();
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
    // Packaging made a production build; give the other tiers their development build back.
    execFileSync('node', ['esbuild.mjs'], { cwd: repoRoot, stdio: 'pipe' });
  });

  it('is small, installs into VS Code and lists the sandbox volumes', async () => {
    const size = statSync(vsix).size;
    assert.ok(size < 10 * 1024 * 1024, `the .vsix is ${size} bytes`);
    await workbench.clickActivityBarIcon('Volume Backups');
    const row = (text: string) => workbench.treeRow('nkvm', text);
    await row('sandbox').locator('.monaco-tl-twistie').click();
    await row('media').locator('.monaco-tl-twistie').click();
    await row('archive-2019').waitFor({ timeout: 30_000 });
    await workbench.screenshot('packaged-extension');
  });
});
