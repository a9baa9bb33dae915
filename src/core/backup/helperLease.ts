import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { describeKubeError } from '../kube/describeKubeError';
import { execInPod } from '../kube/podExec';
import { withKubeRetry } from '../kube/retryTransient';
import { LEASE_FILE, leaseRenewSeconds } from './helperLeaseScript';
import { LEASE_ANNOTATIONS, readLease, renewedAtText } from './helperOwner';
import { DEFAULT_LEASE_SECONDS, HELPER_CONTAINER } from './helperPodSpec';

/** How long stopping waits for a renewal under way (its exec is aborted at once, a patch cannot be). */
const STOP_WAIT_MS = 1500;

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
  private patchForbidden = false;
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

  /**
   * The container runs: from the next renewal on, the lease file is touched too. Throws when
   * the lease cannot be recorded on the pod because `patch` is forbidden: other windows and `nkvm
   * cleanup` would then see a stale lease and remove the helper in the middle of the work.
   */
  async containerRunning(): Promise<void> {
    this.running = true;
    await this.inFlight;
    // The annotation now, so a forbidden patch is known before the work starts; the file waits for the next
    // renewal: the helper's loop touched it as it started, and an exec here would hold up the work.
    await this.tick({ touchFile: false });
    if (this.patchForbidden) {
      const { namespace, pod } = this.options;
      throw new Error(
        `could not record the lease on helper pod ${pod}: patch on pods is forbidden in "${namespace}", so other windows and nkvm cleanup ` +
          `would take the working helper for a leftover. Grant patch on pods through the RoleBinding nkvm-runtime ` +
          `(deploy/k8s/rbac/rolebinding-runtime-template.yaml) and retry.`,
      );
    }
  }

  /**
   * Stops renewing and lets a renewal under way finish for at most {@link STOP_WAIT_MS}, so the helper's
   * deletion follows it but is never held up by a slow API server; leaves no timer behind.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort(new Error('the helper lease was released'));
    if (!this.inFlight) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.inFlight, new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS)))]);
    clearTimeout(timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), leaseRenewSeconds(this.leaseSeconds) * 1000);
  }

  private tick(what: { touchFile: boolean } = { touchFile: true }): Promise<void> {
    if (this.stopped || this.inFlight) return this.inFlight ?? Promise.resolve();
    clearTimeout(this.timer);
    this.inFlight = this.renew(what.touchFile).finally(() => {
      this.inFlight = undefined;
      this.schedule();
    });
    return this.inFlight;
  }

  /** The file (what the pod's loop reads) and the annotation (what other clients read) are renewed independently. */
  private async renew(touchFile: boolean): Promise<void> {
    const signal = this.abort.signal;
    const [file, annotation] = await Promise.allSettled([this.running && touchFile ? this.touchLeaseFile(signal) : Promise.resolve(), this.patchRenewedAt(signal)]);
    if (signal.aborted) return;
    const failures = [file, annotation].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    this.patchForbidden = annotation.status === 'rejected' && describeKubeError(annotation.reason).kind === 'forbidden';
    if (!failures.length) {
      this.failuresInARow = 0;
      return;
    }
    if (failures.some((e) => describeKubeError(e).kind === 'notFound')) {
      // Nothing left to keep alive; the work on it fails by itself.
      this.stopped = true;
      return;
    }
    this.failuresInARow++;
    const { namespace, pod } = this.options;
    const forbidden = failures.some((e) => describeKubeError(e).kind === 'forbidden');
    const next = forbidden ? ` Grant patch on pods and create on pods/exec in "${namespace}" (RoleBinding nkvm-runtime).` : '';
    const causes = failures.map((e) => (e as Error).message ?? describeKubeError(e).message).join('; ');
    this.options.onProblem?.(
      `could not renew the lease of helper pod ${namespace}/${pod} (${this.failuresInARow} in a row): ${causes}; ` +
        `the pod stops by itself if its lease (${this.leaseSeconds} s) runs out.${next}`,
    );
  }

  private async patchRenewedAt(signal: AbortSignal): Promise<void> {
    const { namespace, pod } = this.options;
    const body = { metadata: { annotations: { [LEASE_ANNOTATIONS.renewedAt]: renewedAtText(Date.now()) } } };
    const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    await withKubeRetry(() => this.core.patchNamespacedPod({ name: pod, namespace, body }, mergePatch), { signal, attempts: 2 });
  }

  private async touchLeaseFile(signal: AbortSignal): Promise<void> {
    const { namespace, pod } = this.options;
    let stderr = '';
    // A hung exec must not hold up renewals for long; setting up an exec to a remote cluster may take seconds.
    const timeout = AbortSignal.any([signal, AbortSignal.timeout(Math.max(10, leaseRenewSeconds(this.leaseSeconds)) * 1000)]);
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
