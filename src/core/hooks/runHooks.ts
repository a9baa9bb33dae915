import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { describeKubeError } from '../kube/describeKubeError';
import { execInPod, ExecFailedError, ExecRefusedError } from '../kube/podExec';
import { containerFor, type BackupHooks, type PlannedHook } from './backupHooks';
import { formatGoDuration } from './goDuration';
import type { HookPhase } from './hookAnnotations';
import type { HookOutcome, HookRun } from './hookRun';
import { OutputTail } from './outputTail';

/** A hook whose failure stops the backup (onError Fail), or the cancel that stopped the hooks. */
export interface HookFailure {
  readonly hook: PlannedHook;
  readonly message: string;
  readonly nextStep: string;
}

export interface HookPhaseResult {
  readonly phase: HookPhase;
  readonly runs: readonly HookRun[];
  /**
   * Pre phase: set when a hook with onError Fail failed, or the signal stopped the hooks; the caller then
   * backs up nothing. Post phase: the first failed hook with onError Fail; the archive exists but the
   * application may not have resumed.
   */
  readonly failure?: HookFailure;
  /** Pre phase: the pods whose post hooks are due; pass this result as `afterPre` to the post phase. */
  readonly postHookPods: readonly string[];
}

export interface RunHooksOptions {
  /** Stops the running exec and the hooks after it. Pass a fresh signal (or none) for the post phase after a cancel. */
  readonly signal?: AbortSignal;
  /** Post phase: the pre phase's result, so only pods whose pre hooks ran get their post hooks. */
  readonly afterPre?: HookPhaseResult;
}

/**
 * Runs one phase's hooks in order through exec in the workload's pods. Pre: the first failure of a hook
 * with onError Fail stops the phase. Post: every due hook runs, failures or not, since each usually resumes
 * something. As in Velero, a pod whose pre hook failed with onError Fail gets no post hooks, and pods
 * without pre hooks get theirs; a pod whose pre hook was cancelled gets them too, since it may have run.
 */
export async function runHooks(kubeConfig: KubeConfig, hooks: BackupHooks, phase: HookPhase, options: RunHooksOptions = {}): Promise<HookPhaseResult> {
  const { signal, afterPre } = options;
  const planned = phase === 'pre' ? hooks.pre : hooks.post.filter((h) => !afterPre || afterPre.postHookPods.includes(h.pod));
  const runs: HookRun[] = [];
  const reached = new Set<string>();
  const blocked = new Set<string>();
  let failure: HookFailure | undefined;

  for (const hook of planned) {
    if (signal?.aborted) {
      failure ??= cancelled(hook);
      break;
    }
    reached.add(hook.pod);
    const run = await runHook(kubeConfig, hook, signal);
    runs.push(run);
    if (run.outcome === 'ok') continue;
    const stoppedByCancel = run.outcome === 'error' && signal?.aborted === true;
    if (stoppedByCancel) {
      failure ??= cancelled(hook);
      break;
    }
    if (hook.onError === 'Fail') {
      failure ??= { hook, message: run.message, nextStep: nextStepFor(hook, run) };
      blocked.add(hook.pod);
      if (phase === 'pre') break;
    }
  }

  const prePods = new Set(hooks.pre.map((h) => h.pod));
  const postHookPods =
    phase === 'pre' ? [...new Set(hooks.post.map((h) => h.pod))].filter((pod) => !blocked.has(pod) && (!prePods.has(pod) || reached.has(pod))) : [];
  return { phase, runs, ...(failure ? { failure } : {}), postHookPods };
}

function cancelled(hook: PlannedHook): HookFailure {
  return { hook, message: `the backup was cancelled during the ${hook.phase} hooks`, nextStep: 'start the backup again when ready' };
}

function nextStepFor(hook: PlannedHook, run: HookRun): string {
  const fix = `fix the command in ${hook.origin} or set its on-error to Continue`;
  switch (run.outcome) {
    case 'timed-out':
      return `make the command finish sooner or raise its timeout (${hook.origin}); check that it is not still running in pod ${hook.namespace}/${hook.pod}`;
    case 'error':
      return `check the connection to the cluster and that you may create pods/exec in namespace ${hook.namespace}, then try again`;
    default:
      return run.exitCode !== null ? `read the hook's output in the report, then ${fix}` : fix;
  }
}

/** Runs one hook; never throws: every way it can go wrong becomes a HookRun with a message. */
async function runHook(kubeConfig: KubeConfig, hook: PlannedHook, signal: AbortSignal | undefined): Promise<HookRun> {
  const startedAt = new Date();
  const stdout = new OutputTail();
  const stderr = new OutputTail();
  let container = hook.container ?? '';
  const finish = (outcome: HookOutcome, message: string, exitCode: number | null = null): HookRun => ({
    phase: hook.phase,
    namespace: hook.namespace,
    pod: hook.pod,
    container,
    command: hook.command,
    source: hook.source,
    onError: hook.onError,
    exitCode,
    stdout: stdout.text(),
    stdoutCutBytes: stdout.cutBytes,
    stderr: stderr.text(),
    stderrCutBytes: stderr.cutBytes,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    outcome,
    message,
  });

  if (hook.problem) return finish('failed', hook.problem);
  let pod: V1Pod;
  try {
    pod = await kubeConfig.makeApiClient(CoreV1Api).readNamespacedPod({ name: hook.pod, namespace: hook.namespace });
  } catch (e) {
    const described = describeKubeError(e);
    const where = `pod ${hook.namespace}/${hook.pod}`;
    if (described.kind === 'notFound') return finish('failed', `${where} does not exist (any more); the hook in ${hook.origin} has nowhere to run`);
    return finish('error', `could not read pod ${hook.namespace}/${hook.pod}: ${described.message}`);
  }
  const resolved = containerFor(pod, hook.container);
  container = resolved.name ?? '';
  if (resolved.problem) return finish('failed', resolved.problem);
  const notRunning = whyNotRunning(pod, container);
  if (notRunning) return finish('failed', notRunning);

  const timeout = new AbortController();
  const timer = hook.timeoutMs !== undefined ? setTimeout(() => timeout.abort(new Error('hook timeout')), hook.timeoutMs) : undefined;
  const stop = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
  try {
    const exitCode = await execInPod(kubeConfig, {
      namespace: hook.namespace,
      pod: hook.pod,
      container,
      command: [...hook.command],
      stdout: stdout.writable(),
      stderr: (chunk) => stderr.push(chunk),
      signal: stop,
    });
    return exitCode === 0 ? finish('ok', 'exit 0', 0) : finish('failed', `the command exited with code ${exitCode}`, exitCode);
  } catch (e) {
    if (timeout.signal.aborted && !signal?.aborted) {
      // Closing the stream does not stop a command on a real cluster: say so, since it may still hold a lock.
      const limit = formatGoDuration(hook.timeoutMs!);
      return finish('timed-out', `timed out after ${limit}; the exec stream was closed, but the command may still be running in the container`);
    }
    if (signal?.aborted) return finish('error', 'cancelled; the exec stream was closed, but the command may still be running in the container');
    if (e instanceof ExecFailedError) return finish('failed', `the command could not run in container "${container}": ${e.message}`);
    if (e instanceof ExecRefusedError) return finish('error', `the API server refused to run the hook in pod ${hook.namespace}/${hook.pod}: ${e.message}`);
    return finish('error', `the hook's exec stream broke: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

/** Why the hook cannot run in this pod and container now, or undefined when both are running. */
function whyNotRunning(pod: V1Pod, container: string): string | undefined {
  const name = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  const phase = pod.status?.phase ?? 'Unknown';
  if (pod.metadata?.deletionTimestamp) return `pod ${name} is being deleted; run the backup again once its replacement runs`;
  if (phase !== 'Running') return `pod ${name} is ${phase}, not Running, so its hook cannot run; wait until it runs, then back up again`;
  const status = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((s) => s.name === container);
  if (status && !status.state?.running) {
    const ended = status.state?.terminated;
    const why = status.state?.waiting?.reason ?? (ended ? `terminated (${ended.reason ?? `exit ${ended.exitCode}`})` : 'not started');
    return `container "${container}" of pod ${name} is not running (${why}); wait until it runs, then back up again`;
  }
  return undefined;
}
