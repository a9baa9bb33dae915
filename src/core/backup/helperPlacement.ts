import type { CoreV1Api, V1Toleration } from '@kubernetes/client-node';
import { describeKubeError } from '../kube/describeKubeError';
import { nextStepFor, StageError } from './backupStage';
import { runtimeGrantNextStep } from './helperPod';
import { withKubeRetry } from '../kube/retryTransient';

export interface HelperPlacement {
  accessModes: string[];
  /** The claim's phase: a backup needs `Bound`; a restore may create the claim just before. */
  phase?: string;
  storageClassName?: string;
  /** Node of a running pod that mounts a ReadWriteOnce claim: the helper must run there too. */
  node?: string;
  tolerations?: V1Toleration[];
  runAsUser?: number;
  runAsGroup?: number;
  /** The pod's fsGroup and supplementalGroups: the helper joins them as supplemental groups. */
  fsGroup?: number;
  supplementalGroups?: number[];
  /** Running pods that mount the claim, with their nodes. */
  consumers: string[];
  consumerNodes: { pod: string; node: string }[];
}

/** Reads the claim and the pods that mount it; refuses a ReadWriteOncePod claim another pod uses. */
export async function helperPlacement(core: CoreV1Api, namespace: string, pvc: string): Promise<HelperPlacement> {
  const placement = await readPlacement(core, namespace, pvc);
  refuseOncePodInUse(placement, pvc);
  return placement;
}

/** A ReadWriteOncePod claim can never be mounted by a second pod: say so instead of trying. */
export function refuseOncePodInUse(placement: HelperPlacement, pvc: string): void {
  const user = placement.consumers[0];
  if (placement.accessModes.includes('ReadWriteOncePod') && user) {
    throw new StageError('create', `"${pvc}" is ReadWriteOncePod and pod ${user} uses it, so no other pod can mount it`, `Scale ${user}'s workload down to zero for the backup, or back up from inside that pod.`);
  }
}

/** Where the helper may run and as whom, from the claim and the pods that mount it; only reads. */
/** Why the claim to back up could not be read: gone, forbidden, or the API server. */
export function claimReadFailure(namespace: string, pvc: string, e: unknown): StageError {
  const d = describeKubeError(e);
  const cause = d.kind === 'notFound' ? `PersistentVolumeClaim "${pvc}" was not found in namespace "${namespace}"` : `could not read PersistentVolumeClaim "${pvc}": ${d.message}`;
  const next = d.kind === 'notFound' ? 'Refresh the volume list; the claim may have been deleted or renamed.' : d.kind === 'forbidden' ? runtimeGrantNextStep(namespace, 'get persistentvolumeclaims') : nextStepFor('create', { namespace });
  return new StageError('create', cause, next);
}

export async function readPlacement(core: CoreV1Api, namespace: string, pvc: string): Promise<HelperPlacement> {
  let accessModes: string[];
  let claim;
  try {
    claim = await withKubeRetry(() => core.readNamespacedPersistentVolumeClaim({ name: pvc, namespace }));
    accessModes = claim.status?.accessModes ?? claim.spec?.accessModes ?? [];
  } catch (e) {
    throw claimReadFailure(namespace, pvc, e);
  }
  let pods;
  try {
    pods = (await withKubeRetry(() => core.listNamespacedPod({ namespace }))).items;
  } catch (e) {
    const d = describeKubeError(e);
    throw new StageError('create', `could not list the pods that use "${pvc}": ${d.message}`, d.kind === 'forbidden' ? runtimeGrantNextStep(namespace, 'list pods') : nextStepFor('create', { namespace }));
  }
  const consumers = pods.filter(
    (p) => !p.metadata?.deletionTimestamp && p.spec?.nodeName && !['Succeeded', 'Failed'].includes(p.status?.phase ?? '') && (p.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === pvc),
  );
  const placement: HelperPlacement = {
    accessModes,
    phase: claim.status?.phase,
    storageClassName: claim.spec?.storageClassName,
    consumers: consumers.map((p) => p.metadata!.name!),
    consumerNodes: consumers.map((p) => ({ pod: p.metadata!.name!, node: p.spec!.nodeName! })),
  };
  const first = consumers[0];
  if (first) {
    // Reading as the workload's own user lets the helper open files only that user may read.
    const sc = { ...first.spec?.securityContext, ...first.spec?.containers?.[0]?.securityContext };
    placement.runAsUser = sc.runAsUser;
    placement.runAsGroup = sc.runAsGroup;
    placement.fsGroup = first.spec?.securityContext?.fsGroup;
    placement.supplementalGroups = first.spec?.securityContext?.supplementalGroups;
    if (accessModes.includes('ReadWriteOnce') && !accessModes.includes('ReadWriteMany') && !accessModes.includes('ReadOnlyMany')) {
      placement.node = first.spec!.nodeName;
      placement.tolerations = first.spec?.tolerations;
    }
  }
  return placement;
}
