// Drives a real VS Code workbench (code-server in headless Chromium) the way a person would.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium } from '../harness/browser';
import { startCodeServer, type RunningCodeServer } from '../harness/codeServer';
import { ensureCodeServer } from '../harness/codeServerInstall';

const repoRoot = path.resolve(__dirname, '../..');
export const screenshotDir = path.join(repoRoot, 'test-output', 'screenshots');

export interface WorkbenchOptions {
  /** `development` loads this repository's dist/ build; a path installs that packaged .vsix. */
  readonly extension?: 'development' | { readonly vsix: string };
  /** Workspace folder (or `.code-workspace` file) to open; an empty temporary folder by default. */
  readonly folder?: string;
  readonly settings?: Readonly<Record<string, unknown>>;
  /** Other packaged extensions (.vsix) installed next to this one, e.g. ones it integrates with. */
  readonly companionVsixPaths?: readonly string[];
}

export interface Workbench {
  readonly page: Page;
  readonly server: RunningCodeServer;
  /** Runs a command through the palette by its full title, e.g. `NKVM: Show Log`. */
  runCommand(title: string): Promise<void>;
  /** Opens a view container by the title its activity bar icon carries. */
  clickActivityBarIcon(title: string): Promise<void>;
  /** Picks an item of the open context menu by its label. */
  chooseMenuItem(name: string): Promise<void>;
  /** A contributed view, e.g. `nkvm` or `kubernetesView`. */
  view(id: string): Locator;
  /** The row of that view's tree whose label is exactly `label`. */
  treeRow(viewId: string, label: string): Locator;
  /** Keeps a screenshot named after a test that failed, to see what the workbench showed. */
  screenshotIfFailed(test: Mocha.Test | undefined): Promise<void>;
  /** Saves test-output/screenshots/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openWorkbench(options: WorkbenchOptions = {}): Promise<Workbench> {
  await ensureCodeServer();
  const extension = options.extension ?? 'development';
  const server = await startCodeServer({
    settings: options.settings,
    vsixPaths: [...(options.companionVsixPaths ?? []), ...(extension === 'development' ? [] : [extension.vsix])],
  });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium(server.scratchDir);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const consoleLines: string[] = [];
    page.on('console', (message) => consoleLines.push(`[${message.type()}] ${message.text()}`));
    page.on('framenavigated', (frame) => frame === page.mainFrame() && consoleLines.push(`[navigated] ${frame.url()}`));
    const folder = options.folder ?? path.join(server.scratchDir, 'workspace');
    if (!folder.endsWith('.code-workspace')) mkdirSync(folder, { recursive: true });
    const extensionDevelopmentPath = extension === 'development' ? repoRoot : undefined;
    await page.goto(server.workbenchUrl({ folder, extensionDevelopmentPath }));
    await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 30_000 });
    return workbench(page, server, browser, consoleLines);
  } catch (error) {
    await browser?.close();
    await server.stop();
    throw error;
  }
}

function workbench(page: Page, server: RunningCodeServer, browser: Browser, consoleLines: readonly string[]): Workbench {
  const view = (id: string) => page.locator(`[id="workbench.view.extension.${id}"]`);
  return {
    page,
    server,
    runCommand: (title) => runCommand(page, title),
    clickActivityBarIcon: (title) => page.locator(`.part.activitybar [aria-label^="${title}"]`).first().click(),
    // Context menus fade in; a click during the animation can be lost, so Enter confirms the highlighted item.
    async chooseMenuItem(name) {
      const item = page.getByRole('menuitem', { name });
      await item.waitFor({ timeout: 15_000 });
      await page.waitForTimeout(300);
      await item.click();
      // A click taken closes the menu within its fade-out; only a menu still open after that lost the click.
      // Pressing Enter at once instead would reach whatever the command opened next (a quick pick's first item).
      const closed = await item.waitFor({ state: 'hidden', timeout: 2_000 }).then(() => true, () => false);
      if (!closed) await page.keyboard.press('Enter');
    },
    view,
    treeRow: (viewId, label) => view(viewId).locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${label}$`) }) }),
    async screenshotIfFailed(test) {
      if (test?.state !== 'failed') return;
      const file = await this.screenshot(`failed-${test.title.slice(0, 40).replace(/\W+/g, '-')}`);
      // What the workbench and code-server said, to tell a product failure from a workbench one.
      const log = [`url: ${page.url()}`, '--- browser console', ...consoleLines.slice(-400), '--- code-server', server.outputTail()];
      writeFileSync(file.replace(/\.png$/, '.log'), `${log.join('\n')}\n`);
    },
    async screenshot(name) {
      mkdirSync(screenshotDir, { recursive: true });
      const file = path.join(screenshotDir, `${name}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    async close() {
      await browser.close();
      await server.stop();
    },
  };
}

async function runCommand(page: Page, title: string): Promise<void> {
  const input = page.locator('.quick-input-widget input.input');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  // Contributed commands reach the palette only once the extension host has scanned the extension,
  // and an open palette does not refresh, so reopen it until the command is listed.
  const deadline = Date.now() + 30_000;
  for (;;) {
    await page.keyboard.press('F1');
    await input.fill(`>${title}`);
    try {
      await row.waitFor({ timeout: 3_000 });
      break;
    } catch (error) {
      await page.keyboard.press('Escape');
      if (Date.now() > deadline) {
        throw new Error(`command "${title}" never appeared in the command palette`, { cause: error });
      }
    }
  }
  await row.click();
  await input.waitFor({ state: 'hidden' });
}
