import { CoreV1Api, KubeConfig, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { describeKubeError } from '../kube/describeKubeError';
import { withKubeRetry } from '../kube/retryTransient';

/** A pod that mounts the claim and has not ended. */
export interface ClaimUser {
  pod: string;
  /** Empty while the pod is not scheduled. */
  node?: string;
  phase?: string;
  readOnly: boolean;
}

/** What a confirmation dialog shows before a restore overwrites (or creates) a claim. */
export interface RestoreTargetInfo {
  namespace: string;
  pvc: string;
  exists: boolean;
  /** `Bound`, `Pending`, ... */
  phase?: string;
  /** The bound volume's capacity, else the requested size. */
  capacity?: string;
  storageClassName?: string;
  accessModes: string[];
  usedBy: ClaimUser[];
  /**
   * Set when a running pod mounts a ReadWriteOnce(Pod) claim on a node: a restore would write under
   * it. ReadWriteOncePod can never be shared; ReadWriteOnce only on that node (allowInUseOnNode).
   */
  inUseOnNode?: { pod: string; node: string; readWriteOncePod: boolean };
}

/** The size, class and access modes to create a claim like another one. */
export interface ClaimShape {
  storage: string;
  storageClassName?: string;
  accessModes: string[];
}

/** Reads the claim and the pods mounting it; a missing claim is `exists: false`, other errors throw. */
export async function describeRestoreTarget(kubeConfig: KubeConfig, namespace: string, pvc: string): Promise<RestoreTargetInfo> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  let claim: V1PersistentVolumeClaim;
  try {
    claim = await withKubeRetry(() => core.readNamespacedPersistentVolumeClaim({ name: pvc, namespace }));
  } catch (e) {
    if (describeKubeError(e).kind === 'notFound') return { namespace, pvc, exists: false, accessModes: [], usedBy: [] };
    throw e;
  }
  const accessModes = claim.status?.accessModes ?? claim.spec?.accessModes ?? [];
  const pods = (await withKubeRetry(() => core.listNamespacedPod({ namespace }))).items;
  const usedBy: ClaimUser[] = [];
  for (const p of pods) {
    if (p.metadata?.deletionTimestamp || ['Succeeded', 'Failed'].includes(p.status?.phase ?? '')) continue;
    const volume = (p.spec?.volumes ?? []).find((v) => v.persistentVolumeClaim?.claimName === pvc);
    if (!volume) continue;
    const mountedRw = (p.spec?.containers ?? []).some((c) => (c.volumeMounts ?? []).some((m) => m.name === volume.name && !m.readOnly));
    usedBy.push({ pod: p.metadata!.name!, node: p.spec?.nodeName || undefined, phase: p.status?.phase, readOnly: !!volume.persistentVolumeClaim?.readOnly || !mountedRw });
  }
  const single = accessModes.includes('ReadWriteOncePod') || (accessModes.includes('ReadWriteOnce') && !accessModes.includes('ReadWriteMany') && !accessModes.includes('ReadOnlyMany'));
  const holder = single ? usedBy.find((u) => u.node) : undefined;
  return {
    namespace,
    pvc,
    exists: true,
    phase: claim.status?.phase,
    capacity: claim.status?.capacity?.storage ?? claim.spec?.resources?.requests?.storage,
    storageClassName: claim.spec?.storageClassName,
    accessModes,
    usedBy,
    ...(holder ? { inUseOnNode: { pod: holder.pod, node: holder.node!, readWriteOncePod: accessModes.includes('ReadWriteOncePod') } } : {}),
  };
}

/** The shape of an existing claim, to restore its backup into a new one like it. */
export async function claimShapeOf(kubeConfig: KubeConfig, namespace: string, pvc: string): Promise<ClaimShape> {
  const claim = await kubeConfig.makeApiClient(CoreV1Api).readNamespacedPersistentVolumeClaim({ name: pvc, namespace });
  const storage = claim.spec?.resources?.requests?.storage ?? claim.status?.capacity?.storage;
  if (!storage) throw new Error(`PersistentVolumeClaim ${namespace}/${pvc} has no requested size`);
  return { storage, storageClassName: claim.spec?.storageClassName, accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'] };
}

/** A size with room for `bytes` of files plus a quarter for file-system overhead, in whole GiB (at least 1Gi). */
export function claimSizeFor(bytes: number): string {
  return `${Math.max(1, Math.ceil((bytes * 1.25) / 2 ** 30))}Gi`;
}

/** The claim a restore creates; labelled so that it can be told apart from the workload's own claims. */
export function restoreClaimManifest(
  namespace: string,
  pvc: string,
  shape: Partial<ClaimShape> & { storage: string },
  archiveName: string,
  extraLabels: Record<string, string> = {},
  extraAnnotations: Record<string, string> = {},
): V1PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: pvc,
      namespace,
      labels: { ...extraLabels, 'app.kubernetes.io/managed-by': 'nerdy-k8s-volume-manager' },
      annotations: { ...extraAnnotations, 'nkvm.dev/restored-from': archiveName },
    },
    spec: {
      accessModes: shape.accessModes?.length ? shape.accessModes : ['ReadWriteOnce'],
      resources: { requests: { storage: shape.storage } },
      ...(shape.storageClassName ? { storageClassName: shape.storageClassName } : {}),
    },
  };
}
