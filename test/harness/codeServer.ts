import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { codeServerEntry } from './codeServerInstall';

export interface CodeServerOptions {
  /** User settings merged over the harness defaults. */
  readonly settings?: Readonly<Record<string, unknown>>;
  /** Packaged extensions installed into the private extensions folder before the server starts. */
  readonly vsixPaths?: readonly string[];
  /** Defaults to a free port on 127.0.0.1. */
  readonly port?: number;
  /** Mirror code-server's own output to this process's stderr (it is kept for errors either way). */
  readonly echoOutput?: boolean;
}

export interface WorkbenchPage {
  /** Workspace folder opened in the window, or a `.code-workspace` file to open as a multi-root workspace. */
  readonly folder: string;
  /** Loads these extension folders in development mode. */
  readonly extensionDevelopmentPath?: string | readonly string[];
  /** Module exporting `run()`, executed by the extension host's test runner. */
  readonly extensionTestsPath?: string;
}

export interface RunningCodeServer {
  readonly origin: string;
  /** Private folder holding HOME, caches, user data and extensions of this instance. */
  readonly scratchDir: string;
  workbenchUrl(page: WorkbenchPage): string;
  /** Last lines code-server printed, for error messages. */
  outputTail(): string;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const DEFAULT_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
};

/** Starts an isolated code-server; every file it writes stays inside a fresh temporary folder. */
export async function startCodeServer(options: CodeServerOptions = {}): Promise<RunningCodeServer> {
  const scratchDir = mkdtempSync(path.join(tmpdir(), 'nkvm-code-server-'));
  const dirs = {
    userData: path.join(scratchDir, 'user-data'),
    extensions: path.join(scratchDir, 'extensions'),
    home: path.join(scratchDir, 'home'),
    tmp: path.join(scratchDir, 'tmp'),
  };
  for (const dir of Object.values(dirs)) {
    mkdirSync(dir, { recursive: true });
  }
  mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  writeFileSync(
    path.join(dirs.userData, 'User', 'settings.json'),
    JSON.stringify({ ...DEFAULT_SETTINGS, ...options.settings }, null, 2),
  );
  const env = isolatedEnv(dirs.home, dirs.tmp);
  const profileArgs = [`--user-data-dir=${dirs.userData}`, `--extensions-dir=${dirs.extensions}`];

  for (const vsix of options.vsixPaths ?? []) {
    const result = spawnSync(process.execPath, [codeServerEntry, ...profileArgs, '--install-extension', vsix], {
      env,
      encoding: 'utf8',
    });
    if (result.status !== 0) {
      rmSync(scratchDir, { recursive: true, force: true });
      throw new Error(`installing ${vsix} failed:\n${result.stdout}${result.stderr}`);
    }
  }

  const port = options.port ?? (await findFreePort());
  const origin = `http://${HOST}:${port}`;
  const args = [
    codeServerEntry,
    '--auth=none',
    `--bind-addr=${HOST}:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    ...profileArgs,
  ];
  // Its own process group, so stop() also reaches the extension host and other helpers it forks.
  const child = spawn(process.execPath, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = new OutputTail(options.echoOutput ?? false);
  child.stdout?.on('data', (chunk: Buffer) => output.add(chunk));
  child.stderr?.on('data', (chunk: Buffer) => output.add(chunk));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const reaper = child.pid === undefined ? undefined : startReaper(child.pid, scratchDir);

  let stopped = false;
  const stop = async () => {
    if (stopped) {
      return;
    }
    stopped = true;
    killGroup(child, 'SIGTERM');
    const grace = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(grace);
    // Helpers that ignore SIGTERM or outlive the leader still belong to the group.
    killGroup(child, 'SIGKILL');
    reaper?.kill();
    rmSync(scratchDir, { recursive: true, force: true });
  };

  try {
    await waitForHealthz(origin, exited, 30_000);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\ncode-server output:\n${output.text()}`);
  }

  return {
    origin,
    scratchDir,
    outputTail: () => output.text(),
    stop,
    workbenchUrl: (page) => {
      const remote = (p: string) => `vscode-remote://${HOST}:${port}${path.resolve(p)}`;
      const payload: [string, string][] = [];
      // file:// URIs leave the window waiting forever for an extension host; remote ones work.
      for (const folder of [page.extensionDevelopmentPath ?? []].flat()) {
        payload.push(['extensionDevelopmentPath', remote(folder)]);
      }
      if (page.extensionTestsPath) {
        payload.push(['extensionTestsPath', remote(page.extensionTestsPath)]);
      }
      const key = page.folder.endsWith('.code-workspace') ? 'workspace' : 'folder';
      const query = new URLSearchParams({ [key]: path.resolve(page.folder) });
      if (payload.length > 0) {
        query.set('payload', JSON.stringify(payload));
      }
      return `${origin}/?${query.toString()}`;
    },
  };
}

function isolatedEnv(home: string, tmp: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // Inside a VS Code terminal these make code-server talk to that VS Code instead of starting.
    if (!key.startsWith('VSCODE_') && key !== 'ELECTRON_RUN_AS_NODE') {
      env[key] = value;
    }
  }
  return {
    ...env,
    HOME: home,
    TMPDIR: tmp,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    VSCODE_AGENT_FOLDER: path.join(home, '.vscode-server'),
    // No extension gallery: tests must not depend on open-vsx.org (unreachable offline anyway).
    EXTENSIONS_GALLERY: '{}',
  };
}

export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForHealthz(origin: string, exited: Promise<void>, timeoutMs: number): Promise<void> {
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (hasExited) {
      throw new Error('code-server exited during start-up');
    }
    try {
      const response = await fetch(`${origin}/healthz`);
      if (response.ok) {
        return;
      }
    } catch {
      // Not listening yet.
    }
    await delay(200);
  }
  throw new Error(`code-server did not answer ${origin}/healthz within ${timeoutMs} ms`);
}

/**
 * Kills the server's process group and removes its folder once this process is gone, however it
 * died: a SIGKILL from a test runner gives no chance to run stop().
 */
function startReaper(groupId: number, scratchDir: string): ChildProcess {
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; kill -KILL "-$2" 2>/dev/null; rm -rf "$3"';
  const reaper = spawn('sh', ['-c', script, 'reaper', String(process.pid), String(groupId), scratchDir], {
    detached: true,
    stdio: 'ignore',
  });
  reaper.unref();
  return reaper;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) {
    return;
  }
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The whole group is already gone.
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Keeps the last lines of output so failures can show them without a log file. */
class OutputTail {
  private lines: string[] = [];

  constructor(private readonly echo: boolean) {}

  add(chunk: Buffer): void {
    if (this.echo) {
      process.stderr.write(chunk);
    }
    this.lines.push(...chunk.toString('utf8').split('\n').filter((line) => line.length > 0));
    this.lines = this.lines.slice(-80);
  }

  text(): string {
    return this.lines.join('\n');
  }
}
