import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { BackupHookSettings } from '../config/backupHookSettings';
import { findBackupHooks, type BackupHooks } from '../hooks/backupHooks';
import { describeHookRun, type HookRun } from '../hooks/hookRun';
import { runHooks, type HookFailure, type HookPhaseResult } from '../hooks/runHooks';
import { withKubeRetry } from '../kube/retryTransient';
import { StageError } from './backupStage';

/**
 * The application hooks around one claim's backup: pre hooks before anything is created, post hooks
 * once (right after the snapshot is cut, or after a live read), and always once pre hooks ran: on
 * success, failure and cancel alike.
 */
export class BackupHookRunner {
  readonly runs: HookRun[] = [];
  private pre: HookPhaseResult | undefined;
  private postRan = false;
  private preStarted = false;
  private preEndedAt = 0;
  /** A post hook with onError Fail that failed: the archive is whole, the application may not have resumed. */
  postFailure: HookFailure | undefined;

  private constructor(
    private readonly kubeConfig: KubeConfig,
    readonly hooks: BackupHooks,
  ) {}

  /** Undefined when no pod that mounts the claim carries hooks and no setting names any. */
  static async plan(kubeConfig: KubeConfig, core: CoreV1Api, namespace: string, pvc: string, settings: BackupHookSettings | undefined): Promise<BackupHookRunner | undefined> {
    const pods = (await withKubeRetry(() => core.listNamespacedPod({ namespace }))).items;
    const hooks = findBackupHooks(pods, namespace, pvc, settings);
    return hooks.pre.length || hooks.post.length ? new BackupHookRunner(kubeConfig, hooks) : undefined;
  }

  /** Runs the pre hooks; a failing one with onError Fail (or a cancel) stops the backup at stage `hook`. */
  async runPre(signal?: AbortSignal): Promise<void> {
    this.preStarted = true;
    this.pre = await runHooks(this.kubeConfig, this.hooks, 'pre', { signal });
    this.preEndedAt = Date.now();
    this.runs.push(...this.pre.runs);
    signal?.throwIfAborted();
    const failure = this.pre.failure;
    if (failure) throw new StageError('hook', `the pre hook in ${failure.hook.namespace}/${failure.hook.pod} failed: ${failure.message}`, sentence(failure.nextStep), this.pre.runs.map(describeHookRun));
  }

  /** Runs the post hooks once, whatever the signal says; never throws. */
  async runPost(): Promise<void> {
    // Post hooks resume what pre hooks held; before the pre phase there is nothing to resume.
    if (this.postRan || !this.preStarted) return;
    this.postRan = true;
    const post = await runHooks(this.kubeConfig, this.hooks, 'post', this.pre ? { afterPre: this.pre } : {});
    this.runs.push(...post.runs);
    this.postFailure = post.failure;
  }

  /** How long the application was held by its pre hooks until the post hooks let it go, in seconds. */
  heldSeconds(): number {
    const post = this.runs.find((r) => r.phase === 'post');
    return this.preEndedAt && post ? Math.max(0, (Date.parse(post.startedAt) - this.preEndedAt) / 1000) : 0;
  }

  /** Warnings for the report: hooks left out, a live read the application was held for, a failed post hook. */
  warnings(consistency: 'snapshot' | 'live' | undefined): string[] {
    const out = this.hooks.notes.map((n) => `Hook note: ${n}`);
    for (const h of [...this.hooks.pre, ...this.hooks.post]) out.push(...h.warnings.map((w) => `Hook ${h.origin}: ${w}`));
    if (consistency === 'live' && this.runs.some((r) => r.phase === 'pre' && r.outcome === 'ok')) {
      out.push(`The application's pre hooks held it for the whole live read (${this.heldSeconds().toFixed(1)} s until its post hooks ran); with a snapshot it would be held for seconds.`);
    }
    if (this.postFailure) out.push(`The post hook in ${this.postFailure.hook.namespace}/${this.postFailure.hook.pod} failed: ${this.postFailure.message}. The application may not have resumed: ${this.postFailure.nextStep}.`);
    return out;
  }
}

function sentence(text: string): string {
  const t = text.trim();
  return t ? `${t[0]!.toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? '' : '.'}` : t;
}
