import type { V1PersistentVolumeClaim, V1StorageClass } from '@kubernetes/client-node';
import { KubeObject, ObjectStore } from '../api/objectStore';
import { resolveDataSource } from './dataSource';
import { EventRecorder } from './eventRecorder';
import { types } from './types';
import { VolumeData } from './volumeData';

/** Provisioners that hand out folders of an NFS export (nfs-subdir-external-provisioner, csi-driver-nfs) rather than formatted disks. */
const NFS_PROVISIONER = /nfs/i;

/**
 * The PV's volume source, as the class's provisioner writes it: a folder on an NFS export (no fsType, so
 * the kubelet never applies fsGroup), or a CSI block volume formatted with the class's fsType (ext4
 * unless `csi.storage.k8s.io/fstype` says otherwise), whose ownership the kubelet manages for RWO claims.
 * Where the data lives on this machine follows from the PV name (VolumeData.volumePath), never from here.
 */
export function volumeSourceFor(sc: V1StorageClass, claim: KubeObject, pvName: string): { csi?: object; nfs?: object } {
  if (NFS_PROVISIONER.test(sc.provisioner)) {
    return { nfs: { server: 'nfs.sandbox.nkvm.dev', path: `/exports/${claim.metadata.namespace}-${claim.metadata.name}-${pvName}` } };
  }
  const fsType = sc.parameters?.['csi.storage.k8s.io/fstype'] ?? 'ext4';
  return {
    csi: {
      driver: sc.provisioner,
      volumeHandle: `vol-${claim.metadata.uid!.replace(/-/g, '').slice(0, 17)}`,
      fsType,
      volumeAttributes: { 'storage.kubernetes.io/csiProvisionerIdentity': `1733000000000-8081-${sc.provisioner}` },
    },
  };
}

/** Binds claims to new volumes as a dynamic provisioner does; WaitForFirstConsumer waits for a scheduled pod. */
export class Provisioner {
  /** Claims whose data source was not usable yet (namespace/name to the node chosen for them, if any). */
  private readonly waiting = new Map<string, string | undefined>();
  private readonly unsubscribe: () => void;

  constructor(private readonly store: ObjectStore, private readonly data: VolumeData, private readonly events: EventRecorder) {
    // The provisioner retries: a snapshot turning ready or a source claim binding lets a waiting claim go on.
    this.unsubscribe = store.subscribe((e) => {
      const relevant = e.resource === types.snapshots || e.resource === types.snapshotContents || (e.resource === types.pvcs && e.type !== 'ADDED');
      if (relevant && this.waiting.size) setImmediate(() => this.retryWaiting());
    });
  }

  stop(): void {
    this.unsubscribe();
  }

  defaultClassName(): string | undefined {
    return this.store
      .list(types.storageClasses)
      .find((c) => c.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true')?.metadata.name;
  }

  /** Called when a claim is created: bind now, or record why not. */
  claimCreated(claim: KubeObject): void {
    const pvc = claim as unknown as V1PersistentVolumeClaim;
    if (pvc.spec?.volumeName) return; // statically bound (seeded objects)
    const className = pvc.spec?.storageClassName;
    const sc = className ? (this.store.get(types.storageClasses, undefined, className) as unknown as V1StorageClass | undefined) : undefined;
    if (!sc) {
      const msg = className ? `storageclass.storage.k8s.io "${className}" not found` : 'no persistent volumes available for this claim and no storage class is set';
      this.events.record(claim, 'Warning', 'ProvisioningFailed', msg, 'persistentvolume-controller');
      return;
    }
    if (sc.volumeBindingMode === 'WaitForFirstConsumer') {
      this.events.record(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding', 'persistentvolume-controller');
      return;
    }
    this.bind(claim, sc);
  }

  /** Called by the scheduler for a pod on `node` using a claim that waits for its first consumer. */
  bindForConsumer(namespace: string, claimName: string, node: string): void {
    const claim = this.store.get(types.pvcs, namespace, claimName);
    const pvc = claim as unknown as V1PersistentVolumeClaim | undefined;
    if (!claim || pvc?.spec?.volumeName || !pvc?.spec?.storageClassName) return;
    const sc = this.store.get(types.storageClasses, undefined, pvc.spec.storageClassName) as unknown as V1StorageClass | undefined;
    if (sc) this.bind(claim, sc, node);
  }

  isBound(namespace: string, claimName: string): boolean {
    const pvc = this.store.get(types.pvcs, namespace, claimName) as unknown as V1PersistentVolumeClaim | undefined;
    return pvc?.status?.phase === 'Bound' && !!pvc.spec?.volumeName;
  }

  waitsForConsumer(namespace: string, claimName: string): boolean {
    const pvc = this.store.get(types.pvcs, namespace, claimName) as unknown as V1PersistentVolumeClaim | undefined;
    if (!pvc || pvc.spec?.volumeName || !pvc.spec?.storageClassName) return false;
    const sc = this.store.get(types.storageClasses, undefined, pvc.spec.storageClassName) as unknown as V1StorageClass | undefined;
    return sc?.volumeBindingMode === 'WaitForFirstConsumer';
  }

  private retryWaiting(): void {
    for (const [key, node] of [...this.waiting]) {
      const [namespace, name] = key.split('/');
      const claim = this.store.get(types.pvcs, namespace, name);
      const className = (claim?.spec as { storageClassName?: string } | undefined)?.storageClassName;
      const sc = className ? (this.store.get(types.storageClasses, undefined, className) as unknown as V1StorageClass | undefined) : undefined;
      if (!claim || !sc || (claim.spec as { volumeName?: string }).volumeName) this.waiting.delete(key);
      else this.bind(claim, sc, node);
    }
  }

  private bind(claim: KubeObject, sc: V1StorageClass, node?: string): void {
    const pvc = claim as unknown as V1PersistentVolumeClaim;
    const pvName = `pvc-${claim.metadata.uid}`;
    const storage = pvc.spec?.resources?.requests?.storage ?? '1Gi';
    const accessModes = pvc.spec?.accessModes ?? ['ReadWriteOnce'];
    const key = `${claim.metadata.namespace}/${claim.metadata.name}`;
    const dataSource = resolveDataSource(this.store, claim, sc);
    if (dataSource.kind === 'populator') {
      this.events.record(claim, 'Normal', 'Provisioning', 'Assuming an external populator will provision the volume', sc.provisioner);
      return;
    }
    this.events.record(claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${claim.metadata.namespace}/${claim.metadata.name}"`, sc.provisioner);
    if (dataSource.kind === 'failed') {
      this.waiting.set(key, node);
      this.events.record(claim, 'Warning', 'ProvisioningFailed', dataSource.message, sc.provisioner);
      return;
    }
    this.waiting.delete(key);
    const source = volumeSourceFor(sc, claim, pvName);
    if (dataSource.kind === 'ready') this.data.createVolumeFrom(pvName, dataSource.source);
    else this.data.createVolume(pvName, source.nfs ? 'nfs-export' : 'ext4');
    this.store.create(types.pvs, {
      metadata: { name: pvName, annotations: { 'pv.kubernetes.io/provisioned-by': sc.provisioner } },
      spec: {
        capacity: { storage },
        accessModes,
        persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
        storageClassName: sc.metadata?.name,
        volumeMode: 'Filesystem',
        claimRef: { kind: 'PersistentVolumeClaim', namespace: claim.metadata.namespace, name: claim.metadata.name, uid: claim.metadata.uid, apiVersion: 'v1' },
        ...source,
        ...(node
          ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } } }
          : {}),
      },
      status: { phase: 'Bound' },
    });
    this.store.mutate(types.pvcs, claim.metadata.namespace, claim.metadata.name!, (o) => {
      (o.spec as Record<string, unknown>).volumeName = pvName;
      o.metadata.annotations = { ...o.metadata.annotations, 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' };
      o.status = { phase: 'Bound', accessModes, capacity: { storage } };
    });
    this.events.record(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`, sc.provisioner);
  }

  /** Deleting a claim releases its volume; a Delete reclaim policy removes the volume and its data. */
  claimDeleted(claim: KubeObject): void {
    const pvName = (claim.spec as { volumeName?: string } | undefined)?.volumeName;
    if (!pvName) return;
    const pv = this.store.get(types.pvs, undefined, pvName);
    if (!pv) return;
    if ((pv.spec as { persistentVolumeReclaimPolicy?: string }).persistentVolumeReclaimPolicy === 'Delete') {
      this.store.remove(types.pvs, undefined, pvName);
      this.data.removeVolume(pvName);
    } else {
      this.store.mutate(types.pvs, undefined, pvName, (o) => {
        o.status = { phase: 'Released' };
      });
    }
  }
}
