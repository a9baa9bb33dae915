import { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { HELPER_COMPONENT, HELPER_COMPONENT_LABEL } from './helperPodSpec';

export interface LeftoverHelper {
  namespace: string;
  name: string;
  phase?: string;
  ageSeconds: number;
  pvc?: string;
}

/** Helper pods of this tool still in the cluster (a crash, or a cleanup that failed). */
export async function findHelperPods(kubeConfig: KubeConfig, now = Date.now()): Promise<LeftoverHelper[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const list = await core.listPodForAllNamespaces({ labelSelector: `${HELPER_COMPONENT_LABEL}=${HELPER_COMPONENT}` });
  return list.items.map((p: V1Pod) => ({
    namespace: p.metadata!.namespace!,
    name: p.metadata!.name!,
    phase: p.status?.phase,
    ageSeconds: Math.round((now - new Date(p.metadata?.creationTimestamp ?? now).getTime()) / 1000),
    pvc: p.metadata?.annotations?.['nkvm.dev/pvc'],
  }));
}

/** Deletes the given helpers now; returns the ones that could not be deleted with the reason. */
export async function deleteHelperPods(kubeConfig: KubeConfig, pods: LeftoverHelper[]): Promise<{ pod: LeftoverHelper; error: string }[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const failures: { pod: LeftoverHelper; error: string }[] = [];
  for (const pod of pods) {
    try {
      await core.deleteNamespacedPod({ name: pod.name, namespace: pod.namespace, gracePeriodSeconds: 0 });
    } catch (e) {
      if ((e as { code?: number }).code !== 404) failures.push({ pod, error: (e as Error).message });
    }
  }
  return failures;
}
