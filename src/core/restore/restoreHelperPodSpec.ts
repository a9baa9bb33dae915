import type { V1Pod } from '@kubernetes/client-node';
import { DATA_MOUNT } from '../backup/helperPodSpec';

export const RESTORE_PURPOSE = 'Writes the volume for a restore; deleted when the restore ends.';

/** What root needs beyond reading to give restored files their owners, modes and setgid bits back. */
const ROOT_RESTORE_CAPABILITIES = ['CHOWN', 'FOWNER', 'FSETID'];

/**
 * The restore variant of a backup helper spec (as helperPodSpec builds it): the claim mounted
 * read-write, a `nkvm-restore-` name and a purpose annotation saying it writes the volume. Labels
 * stay, so the leftover-helper sweep finds it; so does the lock-down. As root it may also chown,
 * which Pod Security "baseline" allows; a non-root helper writes files as its own user.
 */
export function restoreHelperPod(backupHelper: V1Pod, pvc: string): V1Pod {
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
  for (const volume of spec.volumes ?? []) {
    if (volume.persistentVolumeClaim) delete volume.persistentVolumeClaim.readOnly;
    // The names tar extracted wait in /tmp until they are counted: room for a few hundred thousand files.
    if (volume.emptyDir && volume.name === 'scratch') volume.emptyDir.sizeLimit = '256Mi';
  }
  return pod;
}
