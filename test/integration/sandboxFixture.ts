import { KubeConfig } from '@kubernetes/client-node';
import { execFile, ExecFileOptions, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedDemo } from '../sandbox/demoData';
import { SandboxCluster, SandboxOptions } from '../sandbox/sandboxCluster';

export interface SandboxFixture {
  cluster: SandboxCluster;
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  dir: string;
  /** Runs the installed kubectl against the sandbox with its own discovery cache. */
  kubectl(args: string[], options?: { input?: Buffer | string; encoding?: 'buffer' }): Promise<{ code: number; stdout: Buffer; stderr: string }>;
  stop(): Promise<void>;
}

export async function startSandbox(options: { demo?: boolean; timing?: SandboxOptions['timing'] } = {}): Promise<SandboxFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'nkvm-it-'));
  const cluster = await SandboxCluster.start({ dataDir: join(dir, 'data'), timing: options.timing });
  if (options.demo !== false) seedDemo(cluster);
  const kubeconfigPath = join(dir, 'kubeconfig');
  cluster.writeKubeconfig(kubeconfigPath);
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  let calls = 0;
  return {
    cluster,
    kubeconfigPath,
    kubeConfig,
    dir,
    kubectl(args, opts) {
      const cacheDir = join(dir, `kubectl-cache-${calls++}`);
      const execOptions: ExecFileOptions = { env: { ...process.env, KUBECONFIG: kubeconfigPath, HOME: dir }, maxBuffer: 512 * 1024 * 1024, encoding: 'buffer' };
      return new Promise((resolve) => {
        const child = execFile('kubectl', ['--cache-dir', cacheDir, ...args], execOptions, (error, stdout, stderr) => {
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: stdout as unknown as Buffer, stderr: String(stderr) });
        });
        if (opts?.input !== undefined) child.stdin?.end(opts.input);
        else child.stdin?.end();
      });
    },
    async stop() {
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves when `check` returns a value, polling; fails with `what` after the timeout. */
export async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function kubectlInstalled(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** For suites that drive the real kubectl: skipped without it on a laptop, a failure in CI. */
export function requireKubectl(ctx: Mocha.Context): void {
  if (kubectlInstalled()) return;
  if (process.env.CI) throw new Error('kubectl is not installed; CI must provide it');
  ctx.skip();
}
