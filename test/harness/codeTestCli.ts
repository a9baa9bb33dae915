// Stands in for the `code` executable that @vscode/test-electron launches: desktop VS Code cannot be
// downloaded here, so the tests run in code-server's extension host, driven by a headless browser.
// Accepts `[folder] --extensionDevelopmentPath=DIR... --extensionTestsPath=MODULE`; other flags are ignored
// because each run gets fresh profile folders anyway.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser';
import { startCodeServer, type RunningCodeServer } from './codeServer';
import { ensureCodeServer } from './codeServerInstall';

interface TestLaunch {
  readonly folder?: string;
  readonly extensionDevelopmentPath: readonly string[];
  readonly extensionTestsPath: string;
}

const verbose = process.env.NKVM_HARNESS_VERBOSE === '1';
/** Start-up messages of the VS Code 1.100.3 workbench that share the log with mocha's output. */
const WORKBENCH_CHATTER =
  /^(Resolving connection token|Resolved connection token|Creating a socket|\[Service Worker\]|ChatSessionStore:|Ignoring fetching additional builtin extensions|Updating additional builtin extensions cache)/;
const timeoutMs = Number(process.env.NKVM_VSCODE_TEST_TIMEOUT_MS ?? 15 * 60_000);

function parseCodeArgs(argv: readonly string[]): TestLaunch {
  const value = (name: string) => argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  const extensionDevelopmentPath = argv.filter((arg) => arg.startsWith('--extensionDevelopmentPath=')).map((arg) => arg.slice('--extensionDevelopmentPath='.length));
  const extensionTestsPath = value('extensionTestsPath');
  if (extensionDevelopmentPath.length === 0 || !extensionTestsPath) {
    throw new Error('usage: code [folder] --extensionDevelopmentPath=DIR --extensionTestsPath=MODULE');
  }
  const folder = argv.find((arg) => !arg.startsWith('-'));
  return { folder, extensionDevelopmentPath, extensionTestsPath };
}

/** Prints what the extension host logs (mocha's reporter among it) and resolves with its exit code. */
async function runInWorkbench(server: RunningCodeServer, browser: Browser, launch: TestLaunch): Promise<number> {
  const folder = launch.folder ?? path.join(server.scratchDir, 'workspace');
  mkdirSync(folder, { recursive: true });
  const page = await browser.newPage();
  let exit!: (code: number) => void;
  const exitCode = new Promise<number>((resolve) => (exit = resolve));
  await page.exposeFunction('codeAutomationExit', (code: number) => exit(code));
  await page.exposeFunction('codeAutomationLog', (level: string, args: unknown[]) => {
    const text = format(...args);
    if (!verbose && (level === 'trace' || level === 'debug' || WORKBENCH_CHATTER.test(text))) {
      return;
    }
    (level === 'error' || level === 'warn' ? console.error : console.log)(text);
  });
  page.on('crash', () => {
    console.error('The workbench page crashed.');
    exit(1);
  });
  if (verbose) {
    page.on('console', (message) => console.error(`[browser ${message.type()}] ${message.text()}`));
  }
  const timer = setTimeout(() => {
    console.error(`No result after ${timeoutMs} ms. code-server output:\n${server.outputTail()}`);
    exit(1);
  }, timeoutMs);
  await page.goto(server.workbenchUrl({ ...launch, folder }));
  try {
    return await exitCode;
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<number> {
  const launch = parseCodeArgs(process.argv.slice(2));
  await ensureCodeServer();
  let server: RunningCodeServer | undefined;
  let browser: Browser | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanUp = () =>
    (cleaning ??= (async () => {
      await browser?.close().catch(() => undefined);
      await server?.stop();
    })());
  // Test runners send SIGINT more than once; every one must wait for the same clean-up.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => void cleanUp().finally(() => process.exit(130)));
  }
  server = await startCodeServer({ echoOutput: verbose });
  try {
    browser = await launchChromium(server.scratchDir);
    return await runInWorkbench(server, browser, launch);
  } finally {
    await cleanUp();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
