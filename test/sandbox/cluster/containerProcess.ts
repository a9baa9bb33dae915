import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { ContainerProcessSpec, signalContainerInit, spawnInContainer } from '../exec/containerRunner';
import { CpuCgroupLease, CpuLimits } from '../exec/cpuLimit';
import { ExecutableNotFoundError } from '../exec/imageUserland';

/** How a container's main process ended, in the terms of `containerStatuses[].state.terminated`. */
export interface ContainerExit {
  exitCode: number;
  /** `ContainerStatusUnknown` and `Unknown`: the container vanished with its node (see nodeOutage.ts). */
  reason: 'Completed' | 'Error' | 'OOMKilled' | 'StartError' | 'ContainerStatusUnknown' | 'Unknown';
  message?: string;
  startedAt: string;
  finishedAt: string;
}

/** Exit code the runtime reports for a container that could not be started (runc's "executable file not found"). */
const START_ERROR_EXIT_CODE = 128;

/**
 * A container's main process, started as the PID 1 of its own namespaces with the container's
 * mounts, user, capabilities and cgroups. `exited` resolves once it is gone, with what the kubelet reports.
 */
export class ContainerProcess {
  readonly exited: Promise<ContainerExit>;
  /** Resolves once the command runs (or the process has ended without getting there). */
  readonly started: Promise<void>;
  startedAt = stamp();
  private child?: ChildProcessWithoutNullStreams;
  private killTimer?: NodeJS.Timeout;
  private killAt = Infinity;
  private done = false;

  /** The process the container's command runs under, while it runs. */
  get pid(): number | undefined {
    return this.done ? undefined : this.child?.pid;
  }

  constructor(spec: ContainerProcessSpec, cgroups: CpuLimits, podUid: string, containerName: string, limits: { cpu?: string; memory?: string } | undefined, keepStdinOpen: boolean) {
    let lease: CpuCgroupLease | undefined;
    let startError: Error | undefined;
    try {
      lease = cgroups.enter(podUid, containerName, limits);
      this.child = spawnInContainer({ ...spec, cgroupProcs: lease?.procsFiles, asInit: true });
    } catch (error) {
      lease?.release();
      startError = error as Error;
    }
    const child = this.child;
    if (!child) {
      this.done = true;
      const message = startError instanceof ExecutableNotFoundError ? containerdCreateError(startError) : startError?.message;
      this.exited = Promise.resolve({ exitCode: START_ERROR_EXIT_CODE, reason: 'StartError', message, startedAt: this.startedAt, finishedAt: stamp() });
      this.started = Promise.resolve();
      return;
    }
    const startPipe = child.stdio[3] as Readable;
    this.started = new Promise((resolve) => {
      startPipe.once('data', () => {
        this.startedAt = stamp();
        resolve();
      });
      startPipe.once('error', () => resolve());
      child.once('exit', () => resolve());
    });
    startPipe.on('data', () => undefined);
    // Nobody reads a container's output here; it is drained so the process never blocks on a full pipe.
    child.stdout.resume();
    child.stderr.resume();
    // `stdin: true` keeps the container's stdin open, as the runtime does; otherwise it reads end of file.
    if (!keepStdinOpen) child.stdin.end();
    child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      const finish = (exitCode: number, message?: string) => {
        if (this.done) return;
        this.done = true;
        clearTimeout(this.killTimer);
        const oom = lease?.oomKilled() ?? false;
        lease?.release();
        const reason = oom ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
        resolve({ exitCode: oom ? 128 + constants.signals.SIGKILL : exitCode, reason, message, startedAt: this.startedAt, finishedAt: stamp() });
      };
      child.once('error', (error) => finish(START_ERROR_EXIT_CODE, error.message));
      child.once('exit', (code, signal) => finish(code ?? 128 + (constants.signals[signal ?? 'SIGKILL'] ?? 9)));
    });
  }

  get running(): boolean {
    return !this.done;
  }

  /** SIGTERM to the main process (ignored unless it handles it, as for any PID 1), SIGKILL once the grace period ends. */
  stop(graceMs: number): void {
    if (this.done) return;
    // A second stop with a shorter grace period (a forced deletion) brings the SIGKILL forward, as the kubelet does.
    if (this.killTimer && Date.now() + graceMs >= this.killAt) return;
    if (!this.killTimer && this.child) signalContainerInit(this.child, 'SIGTERM');
    clearTimeout(this.killTimer);
    this.killAt = Date.now() + graceMs;
    this.killTimer = setTimeout(() => this.kill(), graceMs);
  }

  /** SIGKILL: `unshare --kill-child` takes the main process with it, and with it every process of its PID namespace. */
  kill(): void {
    if (this.done || !this.child) return;
    signalContainerInit(this.child, 'SIGKILL');
    this.child.kill('SIGKILL');
  }
}

/** What containerd 1.7 with runc reports (state.terminated.message, and the Failed event) for a command the image lacks. */
export function containerdCreateError(error: ExecutableNotFoundError): string {
  return `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ${error.detail}: unknown`;
}

function stamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}
