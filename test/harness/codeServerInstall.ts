import { spawn, spawnSync } from 'node:child_process';
import { closeSync, createWriteStream, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';

/** code-server 4.100.3 ships VS Code 1.100.3, the oldest version engines.vscode allows. */
export const CODE_SERVER_VERSION = '4.100.3';

const repoRoot = path.resolve(__dirname, '../..');
/** Its own npm project, so the project's `npm ci` never pays for this 300 MB install. */
export const codeServerDir = path.join(repoRoot, '.vscode-test', 'code-server');
const packageDir = path.join(codeServerDir, 'node_modules', 'code-server');
export const codeServerEntry = path.join(packageDir, 'out', 'node', 'entry.js');
const markerFile = path.join(codeServerDir, 'installed-version');
const lockFile = `${codeServerDir}.lock`;

/** @vscode/ripgrep's postinstall downloads from GitHub unless this cached archive exists (x64 name). */
const RIPGREP_CACHE = 'vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';

/** Native modules the install compiles; missing ones mean a lifecycle script was skipped or failed. */
const EXPECTED_FILES = [
  'lib/vscode/node_modules.asar', // created by code-server's own postinstall
  'lib/vscode/node_modules/@vscode/ripgrep/bin/rg',
  'lib/vscode/node_modules/node-pty/build/Release/pty.node',
  'lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node',
  'lib/vscode/node_modules/kerberos/build/Release/kerberos.node',
  'lib/vscode/extensions/node_modules/typescript/package.json',
];

type Need = 'install' | 'browser';

interface Prerequisite {
  readonly aptPackage: string;
  readonly neededFor: Need;
  readonly present: () => boolean;
}

const PREREQUISITES: readonly Prerequisite[] = [
  { aptPackage: 'ripgrep', neededFor: 'install', present: () => commandExists('rg') },
  { aptPackage: 'libkrb5-dev', neededFor: 'install', present: () => existsSync('/usr/include/krb5.h') },
  { aptPackage: 'build-essential', neededFor: 'install', present: () => commandExists('make') && commandExists('g++') },
  { aptPackage: 'python3', neededFor: 'install', present: () => commandExists('python3') },
  { aptPackage: 'chromium', neededFor: 'browser', present: () => existsSync(chromiumPath()) },
];

/** Debian's Chromium by default; CHROMIUM_PATH points elsewhere on other systems. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

/** apt packages this machine lacks for the given uses (all of them by default). */
export function missingAptPackages(needs: readonly Need[] = ['install', 'browser']): string[] {
  return PREREQUISITES.filter((p) => needs.includes(p.neededFor) && !p.present()).map((p) => p.aptPackage);
}

export function isCodeServerInstalled(): boolean {
  return existsSync(codeServerEntry) && existsSync(markerFile) && readFileSync(markerFile, 'utf8').trim() === CODE_SERVER_VERSION;
}

/** Installs code-server into .vscode-test/code-server unless that exact version is already there. */
export async function ensureCodeServer(log: (line: string) => void = console.log): Promise<string> {
  if (!isCodeServerInstalled()) {
    // Test tiers started in parallel on a fresh machine would otherwise install into one folder twice.
    await withInstallLock(async () => {
      if (!isCodeServerInstalled()) {
        await installCodeServer(log);
      }
    });
  }
  return codeServerEntry;
}

async function installCodeServer(log: (line: string) => void): Promise<void> {
  const missing = missingAptPackages(['install']);
  if (missing.length > 0) {
    throw new Error(`code-server needs these Debian packages: apt-get install -y ${missing.join(' ')}`);
  }
  // A half-finished install is not worth repairing; start over.
  rmSync(codeServerDir, { recursive: true, force: true });
  mkdirSync(codeServerDir, { recursive: true });
  const tmpDir = path.join(codeServerDir, 'tmp');
  writeRipgrepCache(tmpDir);
  writeFileSync(path.join(codeServerDir, 'package.json'), `${JSON.stringify(installerPackageJson(), null, 2)}\n`);

  log(`Installing code-server@${CODE_SERVER_VERSION} into ${codeServerDir} (about a minute)...`);
  const started = Date.now();
  await runNpmInstall(tmpDir, path.join(codeServerDir, 'install.log'));
  const absent = EXPECTED_FILES.filter((file) => !existsSync(path.join(packageDir, file)));
  if (absent.length > 0) {
    throw new Error(`code-server install is incomplete (missing ${absent.join(', ')}); see ${path.join(codeServerDir, 'install.log')}`);
  }
  rmSync(tmpDir, { recursive: true, force: true });
  writeFileSync(markerFile, `${CODE_SERVER_VERSION}\n`);
  log(`code-server installed in ${Math.round((Date.now() - started) / 1000)} s`);
}

async function withInstallLock(work: () => Promise<void>): Promise<void> {
  mkdirSync(path.dirname(lockFile), { recursive: true });
  for (;;) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw error;
      }
      if (!lockHolderAlive()) {
        rmSync(lockFile, { force: true }); // left behind by an interrupted install
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  try {
    await work();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

function lockHolderAlive(): boolean {
  try {
    const pid = Number(readFileSync(lockFile, 'utf8'));
    // Signal 0 only asks whether the process exists.
    return pid > 0 && process.kill(pid, 0);
  } catch {
    return false;
  }
}

function installerPackageJson(): object {
  return {
    name: 'nkvm-code-server',
    private: true,
    description: 'VS Code (code-server) used only by the test harness.',
    dependencies: { 'code-server': CODE_SERVER_VERSION },
    // npm 11 warns about (and may later block) unreviewed install scripts; these two are needed.
    // The nested installs that code-server's postinstall runs in lib/vscode are checked by EXPECTED_FILES.
    allowScripts: { 'code-server': true, argon2: true },
  };
}

function writeRipgrepCache(tmpDir: string): void {
  const archive = path.join(tmpDir, RIPGREP_CACHE);
  mkdirSync(path.dirname(archive), { recursive: true });
  const rg = spawnSync('sh', ['-c', 'command -v rg'], { encoding: 'utf8' }).stdout.trim();
  const tar = spawnSync('tar', ['-czf', archive, '-C', path.dirname(rg), path.basename(rg)], { stdio: 'inherit' });
  if (tar.status !== 0) {
    throw new Error(`could not build the ripgrep cache archive ${archive}`);
  }
}

function runNpmInstall(tmpDir: string, logFile: string): Promise<void> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // code-server's postinstall refuses to run as root without it.
    npm_config_unsafe_perm: 'true',
    // node-pty's install runs `npx node-gyp`, which would wait for a "yes" on a missing TTY.
    npm_config_yes: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    // Where @vscode/ripgrep looks for its cached download.
    TMPDIR: tmpDir,
  };
  const nodeDir = nodeHeadersDir();
  if (nodeDir && !process.env.npm_config_nodedir) {
    // node-gyp would otherwise download Node's headers from nodejs.org.
    env.npm_config_nodedir = nodeDir;
  }
  // Foreground scripts put every native build's output into the log, in order.
  const args = ['install', '--foreground-scripts'];
  return new Promise((resolve, reject) => {
    const out = createWriteStream(logFile);
    const child = spawn('npm', args, { cwd: codeServerDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(out, { end: false });
    child.stderr.pipe(out, { end: false });
    child.on('error', reject);
    child.on('close', (code) => {
      out.end();
      out.once('close', () => {
        if (code === 0) {
          resolve();
        } else {
          reject(new Error(`npm install code-server failed with exit code ${code}; last lines of ${logFile}:\n${tail(logFile, 30)}`));
        }
      });
    });
  });
}

/** The folder holding include/node/node.h for the running Node, when its package ships headers. */
function nodeHeadersDir(): string | undefined {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return existsSync(path.join(prefix, 'include', 'node', 'node.h')) ? prefix : undefined;
}

function tail(file: string, lines: number): string {
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

function commandExists(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}
