import type { V1Container, V1Job, V1PersistentVolumeClaim, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { VolumeConsumer, VolumeInfo } from './volumeInventory';
import { indexOwners, OwnerIndex, workloadOf } from './workloadOwners';

/** Everything discovery fetched, before it is turned into the inventory. */
export interface ClusterObjects {
  readonly claims: readonly V1PersistentVolumeClaim[];
  readonly pods: readonly V1Pod[];
  readonly replicaSets: readonly V1ReplicaSet[];
  readonly jobs: readonly V1Job[];
  /** Namespaces whose pods could not be listed; their claims get `consumersUnknown`. */
  readonly podsUnknownIn?: ReadonlySet<string>;
  readonly context?: string;
}

/** One pod's use of one claim. */
export interface ClaimMount {
  readonly claim: string;
  readonly readOnly: boolean;
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
}

/** Claims, with their consumers and owners, sorted by namespace and name. */
export function assembleVolumes(objects: ClusterObjects): VolumeInfo[] {
  const consumers = consumersByClaim(objects.pods, indexOwners(objects.replicaSets, objects.jobs));
  return objects.claims
    .filter((c) => c.metadata?.name && c.metadata.namespace)
    .map((c) => volumeFromClaim(c, consumers.get(claimKey(c.metadata!.namespace!, c.metadata!.name!)) ?? [], objects))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

/** Pods that mount any of these claims; only their owners need resolving. */
export function podsMountingClaims(pods: readonly V1Pod[], claims: readonly V1PersistentVolumeClaim[]): V1Pod[] {
  const wanted = new Set(claims.map((c) => claimKey(c.metadata?.namespace ?? '', c.metadata?.name ?? '')));
  return pods.filter((p) => claimMountsOf(p).some((m) => wanted.has(claimKey(p.metadata?.namespace ?? '', m.claim))));
}

/**
 * The claims a pod mounts. Generic ephemeral volumes count too: their claim is named
 * `<pod>-<volume>` and can be backed up like any other while the pod lives.
 */
export function claimMountsOf(pod: V1Pod): ClaimMount[] {
  const spec = pod.spec;
  if (!spec) return [];
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  const byClaim = new Map<string, ClaimMount>();
  for (const volume of spec.volumes ?? []) {
    const claim = volume.persistentVolumeClaim?.claimName ?? (volume.ephemeral ? `${pod.metadata?.name}-${volume.name}` : undefined);
    if (!claim) continue;
    const mounting = containers.filter((c) => (c.volumeMounts ?? []).some((m) => m.name === volume.name));
    const mounts = mounting.flatMap((c) => (c.volumeMounts ?? []).filter((m) => m.name === volume.name));
    const readOnly = volume.persistentVolumeClaim?.readOnly === true || (mounts.length > 0 && mounts.every((m) => m.readOnly === true));
    const identity = identityOf(pod, mounting[0]);
    const previous = byClaim.get(claim);
    // The same claim through two volumes is writable if either mount is.
    byClaim.set(claim, previous ? { ...previous, readOnly: previous.readOnly && readOnly } : { claim, readOnly, ...identity });
  }
  return [...byClaim.values()];
}

function consumersByClaim(pods: readonly V1Pod[], owners: OwnerIndex): Map<string, VolumeConsumer[]> {
  const result = new Map<string, VolumeConsumer[]>();
  for (const pod of pods) {
    const namespace = pod.metadata?.namespace;
    const name = pod.metadata?.name;
    if (!namespace || !name) continue;
    const owner = workloadOf(pod.metadata, owners);
    for (const mount of claimMountsOf(pod)) {
      const consumer: VolumeConsumer = {
        pod: name,
        node: pod.spec?.nodeName || undefined,
        phase: pod.status?.phase,
        readOnly: mount.readOnly,
        tolerations: pod.spec?.tolerations ?? [],
        runAsUser: mount.runAsUser,
        runAsGroup: mount.runAsGroup,
        fsGroup: pod.spec?.securityContext?.fsGroup,
        owner,
      };
      const key = claimKey(namespace, mount.claim);
      result.set(key, [...(result.get(key) ?? []), consumer]);
    }
  }
  for (const list of result.values()) list.sort((a, b) => a.pod.localeCompare(b.pod));
  return result;
}

function volumeFromClaim(claim: V1PersistentVolumeClaim, consumers: VolumeConsumer[], objects: ClusterObjects): VolumeInfo {
  const namespace = claim.metadata!.namespace!;
  const statusModes = claim.status?.accessModes ?? [];
  return {
    context: objects.context,
    namespace,
    name: claim.metadata!.name!,
    uid: claim.metadata?.uid ?? '',
    phase: claim.status?.phase ?? 'Pending',
    capacity: claim.status?.capacity?.storage,
    requested: claim.spec?.resources?.requests?.storage,
    // Claims from before storageClassName existed carry the class in an annotation.
    storageClass: claim.spec?.storageClassName ?? claim.metadata?.annotations?.['volume.beta.kubernetes.io/storage-class'],
    // Once bound, the status holds the modes the volume actually offers.
    accessModes: statusModes.length > 0 ? statusModes : (claim.spec?.accessModes ?? []),
    volumeName: claim.spec?.volumeName || undefined,
    volumeMode: claim.spec?.volumeMode,
    consumers,
    ...(objects.podsUnknownIn?.has(namespace) ? { consumersUnknown: true } : {}),
  };
}

/** The user and group the mounting container runs as: its own securityContext wins over the pod's. */
function identityOf(pod: V1Pod, container: V1Container | undefined): Pick<ClaimMount, 'runAsUser' | 'runAsGroup'> {
  const podContext = pod.spec?.securityContext;
  return {
    runAsUser: container?.securityContext?.runAsUser ?? podContext?.runAsUser,
    runAsGroup: container?.securityContext?.runAsGroup ?? podContext?.runAsGroup,
  };
}

function claimKey(namespace: string, claim: string): string {
  return `${namespace}/${claim}`;
}
