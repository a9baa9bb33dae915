import type { V1PersistentVolumeClaim, V1StorageClass } from '@kubernetes/client-node';
import { KubeObject, ObjectStore } from '../api/objectStore';
import { finalizers } from './snapshotDeletion';
import { quantityBytes } from './storageQuantity';
import { types } from './types';

const SNAPSHOT_GROUP = 'snapshot.storage.k8s.io';

/** What a claim's spec.dataSource gives its new volume, or why provisioning cannot start yet. */
export type DataSourceResolution =
  | { kind: 'none' }
  | { kind: 'ready'; source: { snapshotHandle: string } | { pvName: string } }
  /** The CSI provisioner refuses for now and retries: a ProvisioningFailed event with this message. */
  | { kind: 'failed'; message: string }
  /** A kind no CSI provisioner handles: a volume populator is expected to fill the claim. */
  | { kind: 'populator' };

/**
 * external-provisioner's checks of a claim's data source (getSnapshotSource, getPVCSource), with its
 * wording: a VolumeSnapshot must be bound, ready and of the class's driver and fit in the claim; a
 * cloned claim must be Bound, on a CSI volume of the same driver, and not larger than the new claim.
 */
export function resolveDataSource(store: ObjectStore, claim: KubeObject, sc: V1StorageClass): DataSourceResolution {
  const spec = (claim as unknown as V1PersistentVolumeClaim).spec;
  const ref = spec?.dataSource ?? spec?.dataSourceRef;
  if (!ref) return { kind: 'none' };
  const requested = quantityBytes(spec?.resources?.requests?.storage) ?? 0;
  if (ref.kind === 'VolumeSnapshot') {
    if (ref.apiGroup !== SNAPSHOT_GROUP) {
      return { kind: 'failed', message: `the PVC source does not belong to the right APIGroup. Expected ${SNAPSHOT_GROUP}, Got ${ref.apiGroup ?? ''}` };
    }
    const why = snapshotProblem(store, claim.metadata.namespace!, ref.name, sc, requested);
    return typeof why === 'string' ? failed('VolumeSnapshot', ref.name, why) : { kind: 'ready', source: why };
  }
  if (ref.kind === 'PersistentVolumeClaim' && !ref.apiGroup) {
    const why = cloneProblem(store, claim.metadata.namespace!, ref.name, sc, requested);
    return typeof why === 'string' ? failed('PersistentVolumeClaim', ref.name, why) : { kind: 'ready', source: why };
  }
  return { kind: 'populator' };
}

function failed(kind: string, name: string, why: string): DataSourceResolution {
  return { kind: 'failed', message: `error getting handle for DataSource Type ${kind} by Name ${name}: ${why}` };
}

function snapshotProblem(store: ObjectStore, namespace: string, name: string, sc: V1StorageClass, requested: number): string | { snapshotHandle: string } {
  const snapshot = store.get(types.snapshots, namespace, name);
  if (!snapshot) return `error getting snapshot ${name} from api server: volumesnapshots.${SNAPSHOT_GROUP} "${name}" not found`;
  if (snapshot.metadata.deletionTimestamp && !snapshot.metadata.finalizers?.includes(finalizers.asSource)) return `snapshot ${name} is being deleted`;
  const status = (snapshot.status ?? {}) as { boundVolumeSnapshotContentName?: string; readyToUse?: boolean; restoreSize?: string };
  const contentName = status.boundVolumeSnapshotContentName;
  if (!contentName) return `snapshot ${name} not bound`;
  const content = store.get(types.snapshotContents, undefined, contentName);
  if (!content) return `error getting snapshotcontent ${contentName} for snapshot ${name}`;
  const contentSpec = content.spec as { driver: string; volumeSnapshotRef: { name?: string; namespace?: string; uid?: string } };
  const ref = contentSpec.volumeSnapshotRef;
  if (ref.uid !== snapshot.metadata.uid || ref.namespace !== namespace || ref.name !== name) {
    return `snapshotcontent ${contentName} for snapshot ${name} is bound to a different snapshot`;
  }
  if (contentSpec.driver !== sc.provisioner) return `snapshotcontent ${contentName} for snapshot ${name} is not handled by CSI driver of StorageClass ${sc.metadata?.name}`;
  if (!status.readyToUse) return `snapshot ${name} is not Ready`;
  const snapshotHandle = (content.status as { snapshotHandle?: string } | undefined)?.snapshotHandle;
  if (!snapshotHandle) return `snapshot handle ${name} is not available`;
  const restoreSize = quantityBytes(status.restoreSize);
  if (restoreSize !== undefined && requested < restoreSize) {
    return `requested volume size ${requested} is less than the size ${restoreSize} for the source snapshot ${name}`;
  }
  return { snapshotHandle };
}

function cloneProblem(store: ObjectStore, namespace: string, name: string, sc: V1StorageClass, requested: number): string | { pvName: string } {
  const source = store.get(types.pvcs, namespace, name) as unknown as V1PersistentVolumeClaim | undefined;
  if (!source) return `error getting PVC ${name} (namespace "${namespace}") from api server: persistentvolumeclaim "${name}" not found`;
  if (source.status?.phase !== 'Bound') return `the PVC DataSource ${name} must have a status of Bound.  Got {${source.status?.phase ?? ''}}`;
  if (source.metadata?.deletionTimestamp) return `the PVC DataSource ${name} is currently being deleted`;
  const sourceSize = quantityBytes(source.spec?.resources?.requests?.storage) ?? 0;
  if (requested < sourceSize) {
    return `error, new PVC request must be greater than or equal in size to the specified PVC data source, requested ${requested} but source is ${sourceSize}`;
  }
  const pvName = source.spec?.volumeName;
  if (!pvName) return `volume name is empty in source PVC ${name}`;
  const pv = store.get(types.pvs, undefined, pvName);
  const pvSpec = pv?.spec as { csi?: { driver: string }; claimRef?: { uid?: string } } | undefined;
  if (!pvSpec?.csi || pvSpec.csi.driver !== sc.provisioner || pvSpec.claimRef?.uid !== source.metadata?.uid) return 'claim in dataSource not bound or invalid';
  return { pvName };
}
