import { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { HELPER_COMPONENT, HELPER_COMPONENT_LABEL } from './helperPodSpec';
import { withKubeRetry } from '../kube/retryTransient';

export interface LeftoverHelper {
  namespace: string;
  name: string;
  phase?: string;
  ageSeconds: number;
  pvc?: string;
  /** activeDeadlineSeconds: the cluster stops the helper by then. */
  deadlineSeconds?: number;
}

/** A helper nobody is using any more, and why that is certain. */
export interface OrphanHelper extends LeftoverHelper {
  reason: string;
}

/** Helper pods of this tool still in the cluster (a crash, or a cleanup that failed). */
export async function findHelperPods(kubeConfig: KubeConfig, now = Date.now()): Promise<LeftoverHelper[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const list = await withKubeRetry(() => core.listPodForAllNamespaces({ labelSelector: `${HELPER_COMPONENT_LABEL}=${HELPER_COMPONENT}` }));
  return list.items.map((p) => leftoverOf(p, now));
}

/**
 * Helpers past their deadline (activeDeadlineSeconds since creation) or already finished: no backup
 * can still be using them, so they can be removed without asking which window started them. With
 * `namespaces`, only those are listed (the runtime permission suffices); else the whole cluster.
 */
export async function findOrphanHelpers(kubeConfig: KubeConfig, options: { namespaces?: readonly string[]; now?: number } = {}): Promise<OrphanHelper[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const now = options.now ?? Date.now();
  const labelSelector = `${HELPER_COMPONENT_LABEL}=${HELPER_COMPONENT}`;
  const pods = options.namespaces
    ? (await Promise.all(options.namespaces.map(async (namespace) => (await withKubeRetry(() => core.listNamespacedPod({ namespace, labelSelector }))).items))).flat()
    : (await withKubeRetry(() => core.listPodForAllNamespaces({ labelSelector }))).items;
  const orphans: OrphanHelper[] = [];
  for (const pod of pods) {
    const helper = leftoverOf(pod, now);
    if (helper.phase === 'Succeeded' || helper.phase === 'Failed') orphans.push({ ...helper, reason: `it has ended (${helper.phase}${pod.status?.reason ? `, ${pod.status.reason}` : ''})` });
    else if (helper.deadlineSeconds !== undefined && helper.ageSeconds > helper.deadlineSeconds) orphans.push({ ...helper, reason: `it is ${helper.ageSeconds} s old, past its ${helper.deadlineSeconds} s deadline` });
  }
  return orphans;
}

function leftoverOf(p: V1Pod, now: number): LeftoverHelper {
  return {
    namespace: p.metadata!.namespace!,
    name: p.metadata!.name!,
    phase: p.status?.phase,
    ageSeconds: Math.round((now - new Date(p.metadata?.creationTimestamp ?? now).getTime()) / 1000),
    pvc: p.metadata?.annotations?.['nkvm.dev/pvc'],
    deadlineSeconds: p.spec?.activeDeadlineSeconds,
  };
}

/** Deletes the given helpers now; returns the ones that could not be deleted with the reason. */
export async function deleteHelperPods(kubeConfig: KubeConfig, pods: LeftoverHelper[]): Promise<{ pod: LeftoverHelper; error: string }[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const failures: { pod: LeftoverHelper; error: string }[] = [];
  for (const pod of pods) {
    try {
      await withKubeRetry(() => core.deleteNamespacedPod({ name: pod.name, namespace: pod.namespace, gracePeriodSeconds: 0 }));
    } catch (e) {
      if ((e as { code?: number }).code !== 404) failures.push({ pod, error: (e as Error).message });
    }
  }
  return failures;
}
