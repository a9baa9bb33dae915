import type { V1Pod } from '@kubernetes/client-node';

/**
 * The user the helper runs as when no pod mounts the claim, or its pod runs as root: `nobody`
 * (65534) exists in alpine and most base images and owns no files, so it reads only what every
 * user may read.
 */
export const DEFAULT_HELPER_UID = 65534;
export const DEFAULT_HELPER_GID = 65534;

export interface HelperIdentity {
  runAsUser: number;
  runAsGroup?: number;
  /** The consuming pod's fsGroup and supplementalGroups, so files its group may read are read. */
  supplementalGroups?: number[];
  /**
   * Where the user comes from, so messages can say why a file was unreadable: the pod that mounts the
   * claim, nkvm.helper.runAsUser, the owner of the volume's files (see volumeOwners), nobody, or root.
   */
  source: 'consumer' | 'configured' | 'owner' | 'default' | 'root';
}

/**
 * Who the helper runs as. Root only when asked for: as root (with DAC_OVERRIDE) it reads every file,
 * but Pod Security "restricted" refuses it. Otherwise the consuming pod's own user, so files only
 * that user may read are still read, else {@link DEFAULT_HELPER_UID}.
 */
export function helperIdentity(
  consumer: { runAsUser?: number; runAsGroup?: number; fsGroup?: number; supplementalGroups?: number[] },
  runAsRoot: boolean,
  configured?: { uid: number; gid?: number },
): HelperIdentity {
  if (runAsRoot) return { runAsUser: 0, runAsGroup: 0, source: 'root' };
  const groups = [...new Set([consumer.fsGroup, ...(consumer.supplementalGroups ?? [])].filter((g): g is number => g !== undefined))];
  const supplemental = groups.length ? { supplementalGroups: groups } : {};
  if (consumer.runAsUser !== undefined && consumer.runAsUser !== 0) {
    return { runAsUser: consumer.runAsUser, ...(consumer.runAsGroup !== undefined ? { runAsGroup: consumer.runAsGroup } : {}), ...supplemental, source: 'consumer' };
  }
  if (configured) return { runAsUser: configured.uid, runAsGroup: configured.gid ?? configured.uid, ...supplemental, source: 'configured' };
  return { runAsUser: DEFAULT_HELPER_UID, runAsGroup: DEFAULT_HELPER_GID, ...supplemental, source: 'default' };
}

/** The helper of a claim nobody names a user for, run instead as the one owner of its files. */
export function ownerIdentity(identity: HelperIdentity, owner: { uid: number; gid: number }): HelperIdentity {
  return { ...identity, runAsUser: owner.uid, runAsGroup: owner.gid, source: 'owner' };
}

/** "uid 999 (the user of pod orders-db-0)" */
export function describeIdentity(identity: HelperIdentity, consumer?: string): string {
  if (identity.source === 'root') return 'root (uid 0, chosen with nkvm.helper.runAsRoot)';
  const groups = identity.supplementalGroups?.length ? `, groups ${identity.supplementalGroups.join(',')}` : '';
  const ids = `uid ${identity.runAsUser}${identity.runAsGroup !== undefined ? `, gid ${identity.runAsGroup}` : ''}${groups}`;
  switch (identity.source) {
    case 'consumer':
      return `${ids} (the user of pod ${consumer ?? 'that mounts the volume'})`;
    case 'configured':
      return `${ids} (from nkvm.helper.runAsUser)`;
    case 'owner':
      return `${ids} (the owner of the volume's files; no running pod names a user)`;
    default:
      return `${ids} (nobody; no pod that mounts the volume names a non-root user)`;
  }
}

/** The same helper pod, to be created again running as another non-root identity (a fresh name, the same groups). */
export function helperPodAs(pod: V1Pod, identity: HelperIdentity): V1Pod {
  const copy = structuredClone(pod);
  delete copy.metadata!.name;
  const security = copy.spec!.securityContext ?? {};
  copy.spec!.securityContext = { ...security, runAsUser: identity.runAsUser, runAsGroup: identity.runAsGroup, runAsNonRoot: true };
  return copy;
}
