import type { V1Pod } from '@kubernetes/client-node';
import { DEFAULT_HELPER_GID } from '../backup/helperIdentity';
import { DATA_MOUNT } from '../backup/helperPodSpec';

export const RESTORE_PURPOSE = 'Writes the volume for a restore; deleted when the restore ends.';

/** What root needs beyond reading to give restored files their owners, modes and setgid bits back. */
const ROOT_RESTORE_CAPABILITIES = ['CHOWN', 'FOWNER', 'FSETID'];

export interface RestoreHelperOptions {
  /** The claim was created for this restore, so nothing in it belongs to anyone yet. */
  newClaim?: boolean;
}

/**
 * The restore variant of a backup helper spec (as helperPodSpec builds it): the claim mounted
 * read-write, a `nkvm-restore-` name and a purpose annotation saying it writes the volume. Labels
 * stay, so the leftover-helper sweep finds it; so does the lock-down. As root it may also chown,
 * which Pod Security "baseline" allows; a non-root helper writes files as its own user.
 *
 * A freshly formatted volume's root folder belongs to root with mode 0755 (ext4 from most CSI
 * drivers), where a non-root helper may not create anything. For a claim made by this restore the
 * helper asks for its own group as `fsGroup`, so the kubelet hands the root to that group with group
 * write (and setgid) before the helper starts; `OnRootMismatch` keeps that to the root folder of an
 * empty volume. An existing claim never gets fsGroup: the kubelet would change its files' group.
 */
export function restoreHelperPod(backupHelper: V1Pod, pvc: string, options: RestoreHelperOptions = {}): V1Pod {
  const pod = structuredClone(backupHelper);
  const metadata = pod.metadata!;
  metadata.generateName = `${`nkvm-restore-${pvc}`.slice(0, 40).replace(/[-.]+$/, '')}-`;
  metadata.annotations = { ...metadata.annotations, 'nkvm.dev/purpose': RESTORE_PURPOSE, 'nkvm.dev/operation': 'restore' };
  const spec = pod.spec!;
  for (const container of spec.containers) {
    for (const mount of container.volumeMounts ?? []) {
      if (mount.mountPath === DATA_MOUNT) delete mount.readOnly;
    }
    const runAsUser = container.securityContext?.runAsUser ?? spec.securityContext?.runAsUser;
    const capabilities = container.securityContext?.capabilities;
    if (runAsUser === 0 && capabilities) {
      capabilities.add = [...new Set([...(capabilities.add ?? []), ...ROOT_RESTORE_CAPABILITIES])];
    }
  }
  const podSecurity = spec.securityContext ?? {};
  if (options.newClaim && podSecurity.runAsUser !== 0) {
    spec.securityContext = { ...podSecurity, fsGroup: podSecurity.runAsGroup ?? DEFAULT_HELPER_GID, fsGroupChangePolicy: 'OnRootMismatch' };
  }
  for (const volume of spec.volumes ?? []) {
    if (volume.persistentVolumeClaim) delete volume.persistentVolumeClaim.readOnly;
    // The names tar extracted wait in /tmp until they are counted: room for a few hundred thousand files.
    if (volume.emptyDir && volume.name === 'scratch') volume.emptyDir.sizeLimit = '256Mi';
  }
  return pod;
}
