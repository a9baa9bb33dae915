import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(__dirname, '../../..');

export interface NkvmRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The `nkvm` sources as a user would run them (through tsx), or a built bundle when one is given. */
export function nkvmCommand(bundle?: string): string[] {
  return bundle ? [bundle] : ['--import', pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href, join(root, 'src/cli/main.ts')];
}

/** Runs `nkvm` in a child process with no input, collecting its output and exit code. */
export function runNkvm(args: readonly string[], options: { cwd: string; env: Record<string, string | undefined>; bundle?: string }): Promise<NkvmRun> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...nkvmCommand(options.bundle), ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => done({ code, stdout, stderr }));
  });
}

/** The variables that point `nkvm` at a sandbox and keep its archives and history in the test's folder. */
export function sandboxEnv(sb: { dir: string; kubeconfigPath: string }): Record<string, string> {
  return { KUBECONFIG: sb.kubeconfigPath, NKVM_BACKUP_DIR: join(sb.dir, 'cli-backups'), NKVM_METADATA_DB_PATH: join(sb.dir, 'cli-data', 'backups.db') };
}
