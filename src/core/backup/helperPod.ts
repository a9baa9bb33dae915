import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { PodChanges } from '../kube/podChanges';
import { describeKubeError } from '../kube/describeKubeError';
import { nextStepFor, StageError } from './backupStage';
import { imageToolsNextStep, missingShellIn } from './helperImageTools';
import { HELPER_CONTAINER, HELPER_GRACE_SECONDS } from './helperPodSpec';
import { parsePodSecurityRefusal, podSecurityFix } from './podSecurityRefusal';
import { sleep, withKubeRetry } from '../kube/retryTransient';

const fatalWaitingReasons = ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError'];

/**
 * Creates the helper after a server-side dry run, so admission (Pod Security, quotas, webhooks)
 * refuses it before anything exists, with the violated rules named.
 */
export async function createHelperPod(core: CoreV1Api, pod: V1Pod): Promise<V1Pod> {
  const dryRun = await dryRunHelperPod(core, pod);
  if (!dryRun.ok) throw dryRun.error;
  const namespace = pod.metadata!.namespace!;
  try {
    return await core.createNamespacedPod({ namespace, body: pod });
  } catch (e) {
    throw createFailure(namespace, e);
  }
}

/** Sends the pod with `dryRun=All`: admission runs in full, nothing is stored. */
export async function dryRunHelperPod(core: CoreV1Api, pod: V1Pod): Promise<{ ok: true; pod: V1Pod } | { ok: false; error: StageError }> {
  const namespace = pod.metadata!.namespace!;
  try {
    return { ok: true, pod: await withKubeRetry(() => core.createNamespacedPod({ namespace, body: pod, dryRun: 'All' })) };
  } catch (e) {
    return { ok: false, error: createFailure(namespace, e) };
  }
}

function createFailure(namespace: string, e: unknown): StageError {
  const described = describeKubeError(e);
  const refusal = described.kind === 'forbidden' ? parsePodSecurityRefusal(described.message) : undefined;
  if (refusal) {
    return new StageError('create', `Pod Security admission refused the helper pod in "${namespace}": violates PodSecurity "${refusal.policy}": ${refusal.detail}`, podSecurityFix(namespace, refusal));
  }
  return new StageError('create', `could not create the helper pod: ${described.message}`, described.kind === 'forbidden' ? runtimeGrantNextStep(namespace, 'create pods') : nextStepFor('create', { namespace }));
}

/** Waits until the helper runs; fails fast, quoting the pod's events, when it cannot start. */
export async function waitForHelperPod(
  core: CoreV1Api,
  namespace: string,
  name: string,
  timeoutSeconds: number,
  signal?: AbortSignal,
  changes?: PodChanges,
): Promise<V1Pod> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let pod: V1Pod | undefined;
  for (let delay = 100; ; delay = Math.min(delay * 1.5, 1000)) {
    signal?.throwIfAborted();
    try {
      pod = await withKubeRetry(() => core.readNamespacedPod({ name, namespace }), { signal });
    } catch (e) {
      const described = describeKubeError(e);
      if (described.kind === 'notFound') throw await waitFailure(core, namespace, name, 'the helper pod disappeared before it started (deleted by someone else or by an admission controller)');
      throw new StageError('wait', `could not read the helper pod: ${described.message}`, nextStepFor('wait', { namespace, helperPod: name }));
    }
    const phase = pod.status?.phase;
    const container = pod.status?.containerStatuses?.find((c) => c.name === HELPER_CONTAINER);
    if (phase === 'Running' && container?.state?.running) return pod;
    const shell = missingShellIn(container);
    if (shell) {
      const image = pod.spec?.containers.find((c) => c.name === HELPER_CONTAINER)?.image ?? 'of the helper';
      throw await waitFailure(core, namespace, name, `the helper pod cannot start: its image has no ${shell} to run the helper's command`, imageToolsNextStep(image, shell === 'sh' ? 'shell (sh)' : shell));
    }
    if (phase === 'Failed' || phase === 'Succeeded') {
      throw await waitFailure(core, namespace, name, `the helper pod ended (${phase}${pod.status?.reason ? `, ${pod.status.reason}` : ''}${pod.status?.message ? `: ${pod.status.message}` : ''}) before the backup could start`);
    }
    const waiting = container?.state?.waiting;
    if (waiting?.reason && fatalWaitingReasons.includes(waiting.reason)) {
      throw await waitFailure(core, namespace, name, `the helper pod cannot start: ${waiting.reason}${waiting.message ? ` (${waiting.message})` : ''}`, imageNextStep(namespace, name));
    }
    const unschedulable = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
    if (unschedulable) throw await waitFailure(core, namespace, name, `the helper pod cannot be scheduled: ${unschedulable.message ?? 'no node fits'}`);
    if (Date.now() > deadline) {
      const where = waiting?.reason ? `${phase}, ${waiting.reason}` : (phase ?? 'unknown phase');
      throw await waitFailure(core, namespace, name, `the helper pod was not running after ${timeoutSeconds} s (${where})`);
    }
    const wait = Math.min(delay, Math.max(0, deadline - Date.now()) + 10);
    await (changes ? changes.sleep(wait, signal) : sleep(wait, signal));
  }
}

/** Beyond the grace period, the time a kubelet may need to stop the container and report it gone. */
const GONE_MARGIN_SECONDS = 30;

/**
 * Deletes the helper with its grace period (its main loop exits on TERM at once), then waits until
 * the API server no longer has it: only then has the container stopped writing and the volume been
 * released, so a next helper for the same ReadWriteOnce claim does not meet Multi-Attach. A pod that
 * is already gone is fine. Takes no abort signal: a cancelled run still waits for its helper to go.
 */
export async function deleteHelperPod(core: CoreV1Api, namespace: string, name: string, kubeConfig?: KubeConfig): Promise<void> {
  let deleted: V1Pod;
  try {
    deleted = await withKubeRetry(() => core.deleteNamespacedPod({ name, namespace }));
  } catch (e) {
    const described = describeKubeError(e);
    if (described.kind === 'notFound') return;
    throw new StageError('cleanup', `could not delete the helper pod ${name}: ${described.message}`, nextStepFor('cleanup', { namespace, helperPod: name }));
  }
  const grace = deleted.metadata?.deletionGracePeriodSeconds ?? deleted.spec?.terminationGracePeriodSeconds ?? HELPER_GRACE_SECONDS;
  const changes = kubeConfig ? PodChanges.watch(kubeConfig, namespace, name, deleted.metadata?.resourceVersion) : undefined;
  try {
    await waitUntilGone(core, namespace, name, deleted.metadata?.uid, grace + GONE_MARGIN_SECONDS, changes);
  } finally {
    changes?.stop();
  }
}

/** Polls with backoff until `name` (with this uid, when known) is gone from the API server; sooner when `changes` says so. */
async function waitUntilGone(core: CoreV1Api, namespace: string, name: string, uid: string | undefined, timeoutSeconds: number, changes?: PodChanges): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (let delay = 100; ; delay = Math.min(delay * 1.5, 2000)) {
    let pod: V1Pod;
    try {
      pod = await withKubeRetry(() => core.readNamespacedPod({ name, namespace }));
    } catch (e) {
      const described = describeKubeError(e);
      if (described.kind === 'notFound') return;
      throw new StageError('cleanup', `could not check that the helper pod ${name} is gone: ${described.message}`, nextStepFor('cleanup', { namespace, helperPod: name }));
    }
    if (uid && pod.metadata?.uid !== uid) return;
    if (Date.now() > deadline) {
      throw new StageError(
        'cleanup',
        `the helper pod ${name} was still stopping ${timeoutSeconds} s after it was deleted${pod.status?.phase ? ` (${pod.status.phase})` : ''}`,
        `Its node may be unreachable: check it (kubectl -n ${namespace} describe pod ${name}). Once the node is known to be down, ` +
          `remove the pod by force (kubectl -n ${namespace} delete pod ${name} --grace-period=0 --force); until then its volume stays attached there.`,
      );
    }
    const wait = Math.min(delay, Math.max(0, deadline - Date.now()) + 10);
    await (changes ? changes.sleep(wait) : sleep(wait));
  }
}

/** The pod's events, oldest first, as `Warning FailedScheduling: ...` lines. */
export async function podEvents(core: CoreV1Api, namespace: string, name: string): Promise<string[]> {
  try {
    const list = await withKubeRetry(() => core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name},involvedObject.kind=Pod` }));
    return list.items
      .sort((a, b) => String(a.lastTimestamp ?? a.eventTime ?? '').localeCompare(String(b.lastTimestamp ?? b.eventTime ?? '')))
      .map((e) => `${e.type ?? 'Normal'} ${e.reason ?? ''}: ${e.message ?? ''}${e.count && e.count > 1 ? ` (x${e.count})` : ''}`);
  } catch (e) {
    // Without events a wait failure loses its real cause, so say why they are missing.
    return [`Events could not be read: ${describeKubeError(e).message}`];
  }
}

/** The next step when the runtime permissions are missing in a namespace. */
export function runtimeGrantNextStep(namespace: string, permission: string): string {
  return `The backup needs "${permission}" in "${namespace}": apply deploy/k8s/rbac/rolebinding-runtime-template.yaml for that namespace (RoleBinding nkvm-runtime), then retry. ${nextStepFor('create', { namespace })}`;
}

/** What to grant when the API server refuses the exec that streams an archive out of or into a helper. */
export function execGrantNextStep(namespace: string): string {
  return `Grant create (and get) on pods/exec in "${namespace}" through the RoleBinding nkvm-runtime (deploy/k8s/rbac/rolebinding-runtime-template.yaml).`;
}

async function waitFailure(core: CoreV1Api, namespace: string, name: string, cause: string, next?: string): Promise<StageError> {
  const events = await podEvents(core, namespace, name);
  const warnings = events.filter((e) => e.startsWith('Warning'));
  const quoted = warnings.length ? ` Events: ${warnings.slice(-3).join(' | ')}` : '';
  return new StageError('wait', `${cause}.${quoted}`, next ?? nextStepFor('wait', { namespace, helperPod: name }), events);
}

function imageNextStep(namespace: string, pod: string): string {
  return `Check that the helper image (nkvm.helperImage) exists and that nodes may pull it (registry access, imagePullSecrets); the events say why the pull failed (kubectl -n ${namespace} describe pod ${pod}).`;
}
