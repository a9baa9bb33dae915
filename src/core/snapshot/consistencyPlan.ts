import type { CoreV1Api, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { StageError } from '../backup/backupStage';
import { claimReadFailure } from '../backup/helperPlacement';
import { describeKubeError } from '../kube/describeKubeError';
import { withKubeRetry } from '../kube/retryTransient';
import { DEFAULT_SNAPSHOT_CLASS_ANNOTATION, SNAPSHOT_API_VERSION, type SnapshotApi, type VolumeSnapshotClass } from './snapshotApi';

import type { ConsistencyMode } from './consistencyMode';

export type ConsistencyPlan =
  | { kind: 'live'; reason: string }
  | {
      kind: 'snapshot';
      snapshotClass: string;
      driver: string;
      deletionPolicy: 'Delete' | 'Retain';
      /** The source claim as read, for the temporary claim's size, class and access modes. */
      claim: V1PersistentVolumeClaim;
      /** The reason this class was taken, for Preflight. */
      reason: string;
    };

interface NoSnapshot {
  reason: string;
  nextStep: string;
}

/**
 * How a backup of this claim reads it: from a VolumeSnapshot when the claim's PersistentVolume is a
 * CSI volume and a VolumeSnapshotClass exists for its driver (the default-annotated one first), else
 * live. Only reads. With `snapshot`, what prevents a snapshot is a failure at stage `snapshot`.
 */
export async function planConsistency(core: CoreV1Api, snapshots: SnapshotApi, namespace: string, pvc: string, mode: ConsistencyMode): Promise<ConsistencyPlan> {
  if (mode === 'live') return { kind: 'live', reason: 'live reading was chosen (nkvm.backup.consistency)' };
  const found = await snapshotClassFor(core, snapshots, namespace, pvc);
  if ('snapshotClass' in found) return found;
  if (mode === 'snapshot') throw new StageError('snapshot', found.reason, found.nextStep);
  return { kind: 'live', reason: found.reason };
}

async function snapshotClassFor(core: CoreV1Api, snapshots: SnapshotApi, namespace: string, pvc: string): Promise<NoSnapshot | Extract<ConsistencyPlan, { kind: 'snapshot' }>> {
  let claim: V1PersistentVolumeClaim;
  try {
    claim = await withKubeRetry(() => core.readNamespacedPersistentVolumeClaim({ name: pvc, namespace }));
  } catch (e) {
    // Whatever the mode, a backup of a claim that cannot be read fails where a live one would.
    throw claimReadFailure(namespace, pvc, e);
  }
  if (claim.spec?.volumeMode === 'Block') {
    // The helper reads files through a mounted file system; a raw block device has none to read.
    throw new StageError('create', `PersistentVolumeClaim "${pvc}" is a raw block volume (volumeMode: Block), and backups read files from a file system`, 'Back up the data from inside its application (a dump), or take a CSI snapshot of it with your storage tools; nkvm backs up volumeMode: Filesystem claims.');
  }
  const volumeName = claim.spec?.volumeName;
  if (claim.status?.phase !== 'Bound' || !volumeName) {
    return { reason: `PersistentVolumeClaim "${pvc}" is not bound, so there is no volume to snapshot`, nextStep: `Back it up once it is bound (kubectl -n ${namespace} describe pvc ${pvc}).` };
  }
  let driver: string | undefined;
  try {
    driver = (await withKubeRetry(() => core.readPersistentVolume({ name: volumeName }))).spec?.csi?.driver;
  } catch (e) {
    const d = describeKubeError(e);
    return {
      reason: `could not read its PersistentVolume "${volumeName}" to find the CSI driver: ${d.message}`,
      nextStep: d.kind === 'forbidden' ? 'Grant get on persistentvolumes through the ClusterRole nkvm-cluster-discovery (deploy/k8s/rbac).' : 'Check the connection to the API server, then back up again.',
    };
  }
  if (!driver) {
    return { reason: `its volume "${volumeName}" is not a CSI volume, and only CSI drivers take snapshots`, nextStep: 'Back it up live (nkvm.backup.consistency "live" or "auto"), with application hooks to quiesce the workload.' };
  }
  let classes: VolumeSnapshotClass[];
  try {
    classes = await withKubeRetry(() => snapshots.listClasses());
  } catch (e) {
    const d = describeKubeError(e);
    if (d.kind === 'notFound') {
      return {
        reason: `the cluster does not serve ${SNAPSHOT_API_VERSION} (the VolumeSnapshot CRDs and snapshot controller are not installed)`,
        nextStep: 'Ask an administrator to install the external-snapshotter CRDs and controller, or back up live (nkvm.backup.consistency "live" or "auto").',
      };
    }
    return {
      reason: `could not list VolumeSnapshotClasses: ${d.message}`,
      nextStep: d.kind === 'forbidden' ? 'Grant get and list on volumesnapshotclasses.snapshot.storage.k8s.io through the ClusterRole nkvm-cluster-discovery (deploy/k8s/rbac).' : 'Check the connection to the API server, then back up again.',
    };
  }
  // The default class first; among equals one that deletes its storage snapshot with the VolumeSnapshot, so
  // backups do not leave one behind each time.
  const forDriver = classes
    .filter((c) => c.driver === driver)
    .sort((a, b) => isDefault(b) - isDefault(a) || deletes(b) - deletes(a) || a.metadata.name.localeCompare(b.metadata.name));
  const chosen = forDriver[0];
  if (!chosen) {
    return {
      reason: `no VolumeSnapshotClass exists for its CSI driver ${driver}`,
      nextStep: `Ask an administrator to create a VolumeSnapshotClass with driver: ${driver} (kubectl get volumesnapshotclass), or back up live (nkvm.backup.consistency "live" or "auto").`,
    };
  }
  const why = isDefault(chosen)
    ? `the default VolumeSnapshotClass for ${driver}`
    : forDriver.length === 1
      ? `the one VolumeSnapshotClass for ${driver}`
      : `the first by name of ${forDriver.length} VolumeSnapshotClasses for ${driver} (none is marked default)`;
  return { kind: 'snapshot', snapshotClass: chosen.metadata.name, driver, deletionPolicy: chosen.deletionPolicy, claim, reason: `its volume is a CSI volume of ${driver}; ${chosen.metadata.name} is ${why}` };
}

function deletes(c: VolumeSnapshotClass): number {
  return c.deletionPolicy === 'Delete' ? 1 : 0;
}

function isDefault(c: VolumeSnapshotClass): number {
  return c.metadata.annotations?.[DEFAULT_SNAPSHOT_CLASS_ANNOTATION] === 'true' ? 1 : 0;
}
