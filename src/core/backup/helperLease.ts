import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { describeKubeError } from '../kube/describeKubeError';
import { execInPod } from '../kube/podExec';
import { withKubeRetry } from '../kube/retryTransient';
import { LEASE_FILE, leaseRenewSeconds } from './helperLeaseScript';
import { LEASE_ANNOTATIONS, readLease, renewedAtText } from './helperOwner';
import { DEFAULT_LEASE_SECONDS, HELPER_CONTAINER } from './helperPodSpec';

export interface HelperLeaseOptions {
  namespace: string;
  pod: string;
  /** The pod as sent: its lease annotation says how long the lease lasts. */
  spec: V1Pod;
  /** Told when a renewal fails; the work goes on, since the lease still has time left. */
  onProblem?: (message: string) => void;
}

/**
 * Keeps one helper's lease fresh while its owner works: every few seconds it records the time in
 * the pod's `renewed-at` annotation (what other clients read) and, once the container runs, touches
 * the lease file over exec (what the pod's own loop reads; the helper holds no credentials).
 * A failed renewal is reported and retried at the next tick; the lease has room for several.
 */
export class HelperLease {
  private readonly core: CoreV1Api;
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private running = false;
  private failuresInARow = 0;
  private stopped = false;
  private readonly leaseSeconds: number;

  private constructor(private readonly kubeConfig: KubeConfig, private readonly options: HelperLeaseOptions) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.leaseSeconds = readLease(options.spec)?.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  }

  /** Starts renewing right after the pod is created, so a slow start does not look like a dead owner. */
  static start(kubeConfig: KubeConfig, options: HelperLeaseOptions): HelperLease {
    const lease = new HelperLease(kubeConfig, options);
    lease.schedule();
    return lease;
  }

  /** The container runs: from now on the lease file is touched too, the first time at once. */
  async containerRunning(): Promise<void> {
    this.running = true;
    await this.inFlight;
    await this.tick();
  }

  /** Stops renewing and waits for a renewal under way; leaves no timer behind. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort(new Error('the helper lease was released'));
    await this.inFlight;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), leaseRenewSeconds(this.leaseSeconds) * 1000);
  }

  private tick(): Promise<void> {
    if (this.stopped || this.inFlight) return this.inFlight ?? Promise.resolve();
    clearTimeout(this.timer);
    this.inFlight = this.renew().finally(() => {
      this.inFlight = undefined;
      this.schedule();
    });
    return this.inFlight;
  }

  private async renew(): Promise<void> {
    const { namespace, pod } = this.options;
    const signal = this.abort.signal;
    try {
      if (this.running) await this.touchLeaseFile(signal);
      const body = { metadata: { annotations: { [LEASE_ANNOTATIONS.renewedAt]: renewedAtText(Date.now()) } } };
      await withKubeRetry(() => this.core.patchNamespacedPod({ name: pod, namespace, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)), { signal, attempts: 2 });
      this.failuresInARow = 0;
    } catch (e) {
      if (signal.aborted) return;
      const described = describeKubeError(e);
      if (described.kind === 'notFound') {
        // Nothing left to keep alive; the work on it fails by itself.
        this.stopped = true;
        return;
      }
      this.failuresInARow++;
      const next = described.kind === 'forbidden' ? ` Grant patch on pods and create on pods/exec in "${namespace}" (RoleBinding nkvm-runtime).` : '';
      this.options.onProblem?.(
        `could not renew the lease of helper pod ${namespace}/${pod} (${this.failuresInARow} in a row): ${(e as Error).message ?? described.message}; ` +
          `the pod stops by itself if its lease (${this.leaseSeconds} s) runs out.${next}`,
      );
    }
  }

  private async touchLeaseFile(signal: AbortSignal): Promise<void> {
    const { namespace, pod } = this.options;
    let stderr = '';
    // A hung exec must not hold up the next renewal for longer than one interval.
    const timeout = AbortSignal.any([signal, AbortSignal.timeout(leaseRenewSeconds(this.leaseSeconds) * 1000)]);
    const code = await execInPod(this.kubeConfig, {
      namespace,
      pod,
      container: HELPER_CONTAINER,
      command: ['touch', LEASE_FILE],
      stdout: new Writable({ write: (_c, _e, done) => done() }),
      stderr: (chunk) => (stderr += chunk.toString('utf8')),
      signal: timeout,
    });
    if (code !== 0) throw new Error(`touch ${LEASE_FILE} exited with code ${code}${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
  }
}
