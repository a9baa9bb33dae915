import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_HELPER_RESOURCES } from '../../src/core/backup/helperPodSpec';

export interface KubectlRun {
  createMs: number;
  waitMs: number;
  /** `kubectl exec <pod> -- <command> > file`, process start to exit. */
  execMs: number;
  /** `kubectl exec <pod> -- true`: what any exec costs before the first byte (process, discovery, TLS, upgrade). */
  emptyExecMs: number;
  deleteMs: number;
}

/** Runs the installed kubectl against one kubeconfig; every call gets its own discovery cache, as a first call would. */
export class Kubectl {
  private calls = 0;

  constructor(private readonly kubeconfigPath: string, private readonly workDir: string) {}

  /** Resolves with the elapsed milliseconds; stdout goes to `stdoutFile` as a shell's `>` would send it. */
  async run(args: string[], options: { stdin?: string; stdoutFile?: string } = {}): Promise<{ ms: number; stdout: string }> {
    const cacheDir = join(this.workDir, `kubectl-cache-${this.calls++}`);
    const out = options.stdoutFile ? openSync(options.stdoutFile, 'w', 0o600) : undefined;
    const started = performance.now();
    try {
      return await new Promise((resolve, reject) => {
        const child = spawn('kubectl', ['--cache-dir', cacheDir, ...args], {
          env: { ...process.env, KUBECONFIG: this.kubeconfigPath, HOME: this.workDir },
          stdio: ['pipe', out ?? 'pipe', 'pipe'],
        });
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        child.stdout?.on('data', (c: Buffer) => stdout.push(c));
        child.stderr!.on('data', (c: Buffer) => stderr.push(c));
        child.stdin!.end(options.stdin);
        child.on('error', reject);
        child.on('close', (code) => {
          const ms = performance.now() - started;
          if (code === 0) resolve({ ms, stdout: Buffer.concat(stdout).toString('utf8') });
          else reject(new Error(`kubectl ${args.join(' ')} exited with ${code}: ${Buffer.concat(stderr).toString('utf8').trim()}`));
        });
      });
    } finally {
      if (out !== undefined) closeSync(out);
    }
  }
}

/**
 * The pod a user would write by hand to read a claim: the helper's image and resources (so both
 * sides stream under the same CPU limit), the claim read-only at /data.
 */
function readerPod(namespace: string, name: string, pvc: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 5,
      // A shell that ends on TERM, so `kubectl delete` waits for nothing (`sleep` alone, as PID 1, ignores TERM for the grace period).
      containers: [{ name: 'reader', image: 'alpine:3.20', command: ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'], resources: DEFAULT_HELPER_RESOURCES, volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }] }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: pvc, readOnly: true } }],
    },
  };
}

/** The by-hand backup: create a reader pod, wait for it, stream the command's output (`tar czf ...`) into a file, delete the pod. */
export async function kubectlBackup(kubectl: Kubectl, namespace: string, pvc: string, podName: string, command: string[], outFile: string): Promise<KubectlRun> {
  const created = await kubectl.run(['create', '-f', '-'], { stdin: JSON.stringify(readerPod(namespace, podName, pvc)) });
  try {
    const waited = await kubectl.run(['wait', '-n', namespace, '--for=condition=Ready', `pod/${podName}`, '--timeout=120s']);
    const exec = await kubectl.run(['exec', '-n', namespace, podName, '--', ...command], { stdoutFile: outFile });
    const empty = await kubectl.run(['exec', '-n', namespace, podName, '--', 'true']);
    const deleted = await kubectl.run(['delete', '-n', namespace, 'pod', podName]);
    return { createMs: created.ms, waitMs: waited.ms, execMs: exec.ms, emptyExecMs: empty.ms, deleteMs: deleted.ms };
  } catch (e) {
    await kubectl.run(['delete', '-n', namespace, 'pod', podName, '--ignore-not-found']).catch(() => undefined);
    throw e;
  }
}
