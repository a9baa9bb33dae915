import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import { chmodSync, lchownSync, lstatSync, readdirSync, statSync, type Stats } from 'node:fs';
import { ObjectStore } from '../api/objectStore';
import { types } from './types';
import { VolumeData } from './volumeData';

const RW_MASK = 0o660;
const RO_MASK = 0o440;
const EXEC_MASK = 0o110;
const SETGID = 0o2000;

/** A volume whose ownership the kubelet manages for this pod, and the name it gives the volume in events. */
interface OwnedVolume {
  path: string;
  /** `pvc-...` for a PersistentVolume, the pod's volume name for an emptyDir. */
  eventName: string;
  /** What the CSI plugin names in its error: the volume handle. */
  volumeId: string;
  readOnly: boolean;
  /** emptyDir passes no policy to SetVolumeOwnership, so it always walks. */
  changePolicy?: string;
}

/** Why a volume's SetUp failed, in the words of the kubelet's FailedMount event. */
export interface OwnershipFailure {
  volume: string;
  message: string;
}

/**
 * Applies the pod's `securityContext.fsGroup` to its volumes before the containers start, as the kubelet's
 * volume SetUp does (pkg/volume/volume_linux.go SetVolumeOwnership): silent when it works, a FailedMount
 * event when it does not. Only volumes whose plugin supports ownership management are touched: emptyDir,
 * and CSI volumes under the default fsGroupPolicy ReadWriteOnceWithFSType (an fsType, a ReadWriteOnce or
 * ReadWriteOncePod access mode, not mounted read-only). NFS folders and volumes without fsType stay as they are.
 */
export function applyFsGroup(store: ObjectStore, data: VolumeData, pod: V1Pod): OwnershipFailure | undefined {
  const fsGroup = pod.spec?.securityContext?.fsGroup;
  if (fsGroup === undefined || fsGroup === null) return undefined;
  for (const volume of ownedVolumes(store, data, pod)) {
    try {
      setVolumeOwnership(volume.path, fsGroup, volume.readOnly, volume.changePolicy);
    } catch (error) {
      const cause = (error as Error).message;
      const message = volume.eventName.startsWith('pvc-')
        ? `MountVolume.SetUp failed for volume "${volume.eventName}" : applyFSGroup failed for vol ${volume.volumeId}: ${cause}`
        : `MountVolume.SetUp failed for volume "${volume.eventName}" : ${cause}`;
      return { volume: volume.eventName, message };
    }
  }
  return undefined;
}

function ownedVolumes(store: ObjectStore, data: VolumeData, pod: V1Pod): OwnedVolume[] {
  const policy = pod.spec?.securityContext?.fsGroupChangePolicy;
  const owned: OwnedVolume[] = [];
  for (const volume of pod.spec?.volumes ?? []) {
    if (volume.emptyDir) {
      const path = data.emptyDirPath(pod.metadata!.uid!, volume.name);
      owned.push({ path, eventName: volume.name, volumeId: volume.name, readOnly: false });
      continue;
    }
    if (!volume.persistentVolumeClaim) continue;
    const claimName = volume.persistentVolumeClaim.claimName;
    const pvc = store.get(types.pvcs, pod.metadata!.namespace, claimName) as unknown as V1PersistentVolumeClaim | undefined;
    const pvName = pvc?.spec?.volumeName;
    const pv = pvName ? (store.get(types.pvs, undefined, pvName) as unknown as V1PersistentVolume | undefined) : undefined;
    const csi = pv?.spec?.csi;
    // The CSI plugin skips read-only mounts, volumes without fsType and volumes no single node may write.
    if (!pv || !csi?.fsType || csi.readOnly || volume.persistentVolumeClaim.readOnly) continue;
    if (!(pv.spec?.accessModes ?? []).some((m) => m === 'ReadWriteOnce' || m === 'ReadWriteOncePod')) continue;
    owned.push({ path: data.volumePath(pvName!), eventName: pvName!, volumeId: csi.volumeHandle, readOnly: false, changePolicy: policy });
  }
  return owned;
}

/**
 * lchown(-1, fsGroup) on every entry; chmod adds group rw (r when read-only), and x plus setgid on
 * folders; symlinks keep their target's mode.
 */
function setVolumeOwnership(root: string, fsGroup: number, readOnly: boolean, changePolicy: string | undefined): void {
  if (changePolicy === 'OnRootMismatch' && !requiresPermissionChange(root, fsGroup, readOnly)) return;
  walk(Buffer.from(root), lstatSync(root), (path, info) => {
    // The kubelet logs a failed lchown or chmod and carries on; only a failed walk fails the mount.
    try {
      lchownSync(path, -1, fsGroup);
    } catch {
      // Logged by the kubelet, not reported.
    }
    if (info.isSymbolicLink()) return;
    const mask = (readOnly ? RO_MASK : RW_MASK) | (info.isDirectory() ? SETGID | EXEC_MASK : 0);
    try {
      chmodSync(path, (info.mode & 0o7777) | mask);
    } catch {
      // Logged by the kubelet, not reported.
    }
  });
}

/** Paths as bytes: file names need not be UTF-8, and a decoded name would point at no file. */
function walk(path: Buffer, info: Stats, visit: (path: Buffer, info: Stats) => void): void {
  visit(path, info);
  if (!info.isDirectory()) return;
  for (const name of readdirSync(path, { encoding: 'buffer' })) {
    const child = Buffer.concat([path, Buffer.from('/'), name]);
    walk(child, lstatSync(child), visit);
  }
}

/** OnRootMismatch walks only when the root lacks the group, the setgid bit or the group permissions. */
function requiresPermissionChange(root: string, fsGroup: number, readOnly: boolean): boolean {
  let info: Stats;
  try {
    info = statSync(root);
  } catch {
    return true;
  }
  if (info.gid !== fsGroup || !info.isDirectory()) return true;
  const wanted = (readOnly ? RO_MASK : RW_MASK) | EXEC_MASK;
  return (info.mode & wanted) !== wanted || (info.mode & SETGID) === 0;
}
