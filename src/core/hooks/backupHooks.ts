import type { V1Pod } from '@kubernetes/client-node';
import type { BackupHookSettings, ClaimHookSetting } from '../config/backupHookSettings';
import { BACKUP_HOOKS_SETTING } from '../config/backupHookSettings';
import { claimMountsOf } from '../discovery/claimConsumers';
import { annotatedHook, DEFAULT_HOOK_TIMEOUT_MS, type HookErrorMode, type HookPhase } from './hookAnnotations';

export type HookSource = 'annotation' | 'setting';

/** One command that would run in a workload's pod before or after the backup of a claim. */
export interface PlannedHook {
  readonly phase: HookPhase;
  readonly source: HookSource;
  readonly namespace: string;
  readonly pod: string;
  /** Undefined when the pod is not known yet: its first container, found when the hook runs. */
  readonly container?: string;
  readonly command: readonly string[];
  readonly onError: HookErrorMode;
  /** Undefined: no time limit. */
  readonly timeoutMs?: number;
  /** Where it is configured: the annotation prefix, or `nkvm.backup.hooks["ns/claim"].pre`. */
  readonly origin: string;
  /** Why it cannot run; running it records a failed hook with this message, and onError decides. */
  readonly problem?: string;
  readonly warnings: readonly string[];
}

/** The hooks around one claim's backup, in the order they run: Velero annotations first, then the setting. */
export interface BackupHooks {
  readonly namespace: string;
  readonly pvc: string;
  readonly pre: readonly PlannedHook[];
  readonly post: readonly PlannedHook[];
  /** Hooks left out and why (a pod that has finished, a setting for a claim nothing mounts). */
  readonly notes: readonly string[];
}

const PHASES: readonly HookPhase[] = ['pre', 'post'];

/**
 * Which commands would run around the backup of `namespace/pvc`, for Preflight to show and for
 * {@link runHooks} to run. `consumerPods` are the pods that mount the claim; others are ignored.
 */
export function findBackupHooks(consumerPods: readonly V1Pod[], namespace: string, pvc: string, settingHooks: BackupHookSettings = {}): BackupHooks {
  // The workload's pods: not nkvm's own helpers (another backup's may mount the claim too), nor pods on their way out.
  const mounting = consumerPods.filter(
    (p) =>
      p.metadata?.namespace === namespace &&
      p.metadata?.labels?.['app.kubernetes.io/managed-by'] !== 'nerdy-k8s-volume-manager' &&
      !p.metadata?.deletionTimestamp &&
      claimMountsOf(p).some((m) => m.claim === pvc),
  );
  const notes: string[] = [];
  const hooks: Record<HookPhase, PlannedHook[]> = { pre: [], post: [] };

  for (const pod of mounting) {
    const name = pod.metadata?.name ?? '';
    const ended = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    for (const phase of PHASES) {
      const hook = annotatedHook(pod.metadata?.annotations, phase);
      if (!hook) continue;
      // Velero skips hooks of a pod that has finished: no application runs there to quiesce.
      if (ended) {
        notes.push(`the ${phase} hook of pod ${namespace}/${name} is skipped: the pod has ${pod.status?.phase === 'Succeeded' ? 'completed' : 'failed'}`);
        continue;
      }
      const container = containerFor(pod, hook.container);
      const problem = hook.problem ?? container.problem;
      hooks[phase].push({
        phase,
        source: 'annotation',
        namespace,
        pod: name,
        container: container.name,
        command: hook.command,
        onError: hook.onError,
        ...(hook.timeoutMs !== undefined ? { timeoutMs: hook.timeoutMs } : {}),
        origin: hook.prefix,
        ...(problem ? { problem } : {}),
        warnings: hook.warnings,
      });
    }
  }

  const key = `${namespace}/${pvc}`;
  const configured = settingHooks[key];
  if (configured) {
    const live = mounting.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    const target = configured.pod
      ? consumerPods.find((p) => p.metadata?.namespace === namespace && p.metadata?.name === configured.pod)
      : live.find((p) => p.status?.phase === 'Running');
    if (!configured.pod && live.length === 0) {
      notes.push(`the hooks in ${BACKUP_HOOKS_SETTING}["${key}"] are skipped: no running pod mounts the claim, so no application writes to it`);
    } else {
      for (const phase of PHASES) {
        const setting = configured[phase];
        if (setting) hooks[phase].push(settingHook(phase, namespace, key, configured.pod, target, setting));
      }
    }
  }
  return { namespace, pvc, pre: hooks.pre, post: hooks.post, notes };
}

function settingHook(
  phase: HookPhase,
  namespace: string,
  key: string,
  podName: string | undefined,
  target: V1Pod | undefined,
  setting: ClaimHookSetting,
): PlannedHook {
  const origin = `${BACKUP_HOOKS_SETTING}["${key}"].${phase}`;
  const container = target ? containerFor(target, setting.container) : { name: setting.container };
  const problem =
    !podName && !target
      ? `no pod that mounts ${key} is Running, so ${origin} has nowhere to run; start the workload or name a pod in "pod"`
      : container.problem;
  return {
    phase,
    source: 'setting',
    namespace,
    pod: podName ?? target?.metadata?.name ?? '',
    ...(container.name !== undefined ? { container: container.name } : {}),
    command: setting.command,
    onError: setting.onError,
    timeoutMs: setting.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS,
    origin,
    ...(problem ? { problem } : {}),
    warnings: [],
  };
}

/**
 * The container a hook runs in: the named one, which must be a container or a sidecar (an init container
 * that keeps running), or else the pod's first container, as Velero's pod command executor decides.
 */
export function containerFor(pod: V1Pod, named: string | undefined): { name?: string; problem?: string } {
  const podName = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  const containers = pod.spec?.containers ?? [];
  if (named === undefined) {
    return containers[0] ? { name: containers[0].name } : { problem: `pod ${podName} has no containers to run the hook in` };
  }
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  if ([...containers, ...sidecars].some((c) => c.name === named)) return { name: named };
  const names = [...containers, ...sidecars].map((c) => c.name).join(', ');
  const problem = `pod ${podName} has no container "${named}" (it has ${names || 'none'}); fix the hook's container or leave it out to use the first container`;
  return { name: named, problem };
}
