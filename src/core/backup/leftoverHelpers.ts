import { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { describeKubeError } from '../kube/describeKubeError';
import { withKubeRetry } from '../kube/retryTransient';
import { StageError } from './backupStage';
import { deleteHelperPod } from './helperPod';
import { HELPER_COMPONENT, HELPER_COMPONENT_LABEL, RUN_ID_LABEL } from './helperPodSpec';
import { deleteSnapshotObject, findSnapshotObjects, liveRunKey } from '../snapshot/leftoverSnapshots';
import { ageSeconds, classifyHelper } from './leftoverClassification';

export interface LeftoverHelper {
  /** A helper pod, or the VolumeSnapshot or temporary claim of a point-in-time backup. */
  kind: 'pod' | 'snapshot' | 'claim';
  namespace: string;
  name: string;
  phase?: string;
  ageSeconds: number;
  pvc?: string;
  /** activeDeadlineSeconds: the cluster stops the helper by then. */
  deadlineSeconds?: number;
  /** False while someone renews its lease: then it is work in progress and never offered. */
  leftover: boolean;
  /** Why it is (or is not) left over, e.g. "its lease ran out: ...". */
  reason: string;
}

/** A helper nobody is using any more, and why that is certain. */
export interface OrphanHelper extends LeftoverHelper {
  leftover: true;
}

export interface HelperSearch {
  /** Only these namespaces (the runtime permission suffices); else the whole cluster. */
  namespaces?: readonly string[];
  now?: number;
}

/**
 * Helper pods of this tool in the cluster, and the snapshots and temporary claims of point-in-time
 * backups, each with whether it is left over and why.
 */
export async function findHelperPods(kubeConfig: KubeConfig, search: HelperSearch = {}): Promise<LeftoverHelper[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const now = search.now ?? Date.now();
  const labelSelector = `${HELPER_COMPONENT_LABEL}=${HELPER_COMPONENT}`;
  const pods = search.namespaces
    ? (await Promise.all(search.namespaces.map(async (namespace) => (await withKubeRetry(() => core.listNamespacedPod({ namespace, labelSelector }))).items))).flat()
    : (await withKubeRetry(() => core.listPodForAllNamespaces({ labelSelector }))).items;
  const helpers = pods.map((p) => helperOf(p, now));
  const liveRuns = new Set(pods.filter((p, i) => !helpers[i]!.leftover && p.metadata?.labels?.[RUN_ID_LABEL]).map((p) => liveRunKey(p.metadata!.namespace!, p.metadata!.labels![RUN_ID_LABEL]!)));
  const objects = await findSnapshotObjects(kubeConfig, search.namespaces, liveRuns, now);
  return [...helpers, ...objects.map((o): LeftoverHelper => ({ kind: o.kind, namespace: o.namespace, name: o.name, ageSeconds: o.ageSeconds, pvc: o.pvc, ...o.verdict }))];
}

/** The helpers that have ended, are past their deadline or whose lease ran out: nobody can still be using them. */
export async function findOrphanHelpers(kubeConfig: KubeConfig, search: HelperSearch = {}): Promise<OrphanHelper[]> {
  return (await findHelperPods(kubeConfig, search)).filter((h): h is OrphanHelper => h.leftover);
}

function helperOf(p: V1Pod, now: number): LeftoverHelper {
  return {
    kind: 'pod',
    namespace: p.metadata!.namespace!,
    name: p.metadata!.name!,
    phase: p.status?.phase,
    ageSeconds: ageSeconds(p, now),
    pvc: p.metadata?.annotations?.['nkvm.dev/pvc'],
    deadlineSeconds: p.spec?.activeDeadlineSeconds,
    ...classifyHelper(p, now),
  };
}

/**
 * Deletes the given helpers with their grace period and waits until each is gone, so their volumes
 * are free when this returns, and the given snapshots and temporary claims (all at once: a claim in use
 * and a snapshot a claim is being made from are held by their finalizers until then); the ones that
 * could not be deleted come back with the reason.
 */
export async function deleteHelperPods(kubeConfig: KubeConfig, pods: readonly LeftoverHelper[]): Promise<{ pod: LeftoverHelper; error: string }[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const outcomes = await Promise.all(
    pods.map(async (pod) => {
      try {
        if (pod.kind === 'pod') await deleteHelperPod(core, pod.namespace, pod.name);
        else await deleteSnapshotObject(kubeConfig, { kind: pod.kind, namespace: pod.namespace, name: pod.name });
        return undefined;
      } catch (e) {
        return { pod, error: e instanceof StageError ? `${e.causeText}. ${e.nextStep}` : describeKubeError(e).message };
      }
    }),
  );
  return outcomes.filter((o): o is { pod: LeftoverHelper; error: string } => o !== undefined);
}
