import { KubeObject, ObjectStore } from '../api/objectStore';
import { FaultRegistry } from '../faults';
import { EventRecorder } from './eventRecorder';
import { finalizers, SnapshotDeletion } from './snapshotDeletion';
import { quantityBytes } from './storageQuantity';
import { types } from './types';
import { VolumeData } from './volumeData';

const DEFAULT_CLASS_ANNOTATION = 'snapshot.storage.kubernetes.io/is-default-class';
const CONTROLLER = 'snapshot-controller';
const SIDECAR = 'csi-snapshotter';

interface SnapshotSpec {
  source: { persistentVolumeClaimName?: string; volumeSnapshotContentName?: string };
  volumeSnapshotClassName?: string;
}
interface PvSpec {
  csi?: { driver: string; volumeHandle: string };
  claimRef?: { namespace?: string; name?: string; uid?: string };
  capacity?: { storage?: string };
}

/** A failure worded as the snapshot controller words it, with the event reason it records. */
class SnapshotFailure extends Error {
  constructor(readonly reason: string, message: string, readonly setReadyToFalse = true) {
    super(message);
  }
}

/**
 * The external-snapshotter's snapshot controller and a CSI driver's snapshotter sidecar: binds each new
 * VolumeSnapshot to a VolumeSnapshotContent, cuts the snapshot (a copy of the claim's volume taken at
 * once, see VolumeData.takeSnapshot) and marks it ready after `readyDelayMs`, like a cloud snapshot
 * that takes a moment to upload.
 */
export class SnapshotController {
  readonly deletion: SnapshotDeletion;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly store: ObjectStore,
    private readonly data: VolumeData,
    private readonly events: EventRecorder,
    private readonly faults: FaultRegistry,
    public readyDelayMs: number,
    /** Holds the processes that write to a claim while its snapshot is copied (see freezeProcessTrees). */
    private readonly freezeWriters: (namespace: string, claim: string) => () => void = () => () => undefined,
  ) {
    this.deletion = new SnapshotDeletion(store, data, events);
  }

  /** Called when a VolumeSnapshot is stored; the controller acts on it as its watch would, right after. */
  snapshotCreated(snapshot: KubeObject): void {
    const { namespace, name } = snapshot.metadata;
    setImmediate(() => this.sync(namespace!, name!));
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.deletion.stop();
  }

  private sync(namespace: string, name: string): void {
    const snapshot = this.store.get(types.snapshots, namespace, name);
    if (!snapshot || snapshot.metadata.deletionTimestamp) return;
    if ((snapshot.status as { boundVolumeSnapshotContentName?: string } | undefined)?.boundVolumeSnapshotContentName) return;
    // Added to every snapshot: deletion waits while a claim is still being provisioned from it.
    this.addFinalizer(snapshot, finalizers.asSource);
    try {
      const spec = snapshot.spec as SnapshotSpec;
      if (spec.source.volumeSnapshotContentName) this.bindPreProvisioned(snapshot, spec.source.volumeSnapshotContentName);
      else this.createDynamic(snapshot, spec);
    } catch (e) {
      if (!(e instanceof SnapshotFailure)) throw e;
      this.failSnapshot(namespace, name, e.reason, e.message, e.setReadyToFalse);
    }
  }

  private createDynamic(snapshot: KubeObject, spec: SnapshotSpec): void {
    const { namespace, name } = snapshot.metadata;
    const className = spec.volumeSnapshotClassName;
    let snapshotClass: KubeObject | undefined;
    if (className) {
      snapshotClass = this.store.get(types.snapshotClasses, undefined, className);
      if (!snapshotClass) {
        throw new SnapshotFailure('GetSnapshotClassFailed', `Failed to get snapshot class with error volumesnapshotclass.snapshot.storage.k8s.io "${className}" not found`, false);
      }
    } else {
      snapshotClass = this.defaultClass(snapshot);
      this.store.mutate(types.snapshots, namespace, name!, (o) => ((o.spec as SnapshotSpec).volumeSnapshotClassName = snapshotClass!.metadata.name));
    }
    const claimName = spec.source.persistentVolumeClaimName!;
    const claim = this.store.get(types.pvcs, namespace, claimName);
    if (!claim) {
      throw new SnapshotFailure('SnapshotContentCreationFailed', `Failed to create snapshot content with error snapshot controller failed to update ${name} on API server: cannot get claim from snapshot`);
    }
    let pv: KubeObject;
    try {
      pv = this.boundVolume(claim);
    } catch (e) {
      const why = (e as Error).message;
      throw new SnapshotFailure('SnapshotContentCreationFailed', `Failed to create snapshot content with error failed to get input parameters to create snapshot ${name}: ${JSON.stringify(why)}`);
    }
    const csi = (pv.spec as PvSpec).csi;
    if (!csi) throw new SnapshotFailure('SnapshotContentCreationFailed', `Failed to create snapshot content with error cannot find CSI PersistentVolumeSource for volume ${pv.metadata.name}`);

    const current = this.store.get(types.snapshots, namespace, name!)!;
    const deletionPolicy = snapshotClass.deletionPolicy as string;
    const driver = snapshotClass.driver as string;
    const contentName = `snapcontent-${current.metadata.uid}`;
    const content = this.store.create(types.snapshotContents, {
      metadata: { name: contentName, finalizers: [finalizers.content] },
      spec: {
        deletionPolicy,
        driver,
        source: { volumeHandle: csi.volumeHandle },
        sourceVolumeMode: 'Filesystem',
        volumeSnapshotClassName: snapshotClass.metadata.name,
        volumeSnapshotRef: { apiVersion: current.apiVersion, kind: current.kind, name, namespace, uid: current.metadata.uid, resourceVersion: current.metadata.resourceVersion },
      },
    });
    this.store.mutate(types.snapshots, namespace, name!, (o) => {
      o.status = { ...(o.status as object), boundVolumeSnapshotContentName: contentName, readyToUse: false };
      if (deletionPolicy === 'Delete') o.metadata.finalizers = [...new Set([...(o.metadata.finalizers ?? []), finalizers.bound])];
    });
    this.events.record(current, 'Normal', 'CreatingSnapshot', `Waiting for a snapshot ${namespace}/${name} to be created by the CSI driver.`, CONTROLLER);
    this.cutSnapshot(current, content, pv, driver, claim);
  }

  /** What the CSI driver's CreateSnapshot does, seen through the sidecar's status updates. */
  private cutSnapshot(snapshot: KubeObject, content: KubeObject, pv: KubeObject, driver: string, claim: KubeObject): void {
    const { namespace, name } = snapshot.metadata;
    const csi = (pv.spec as PvSpec).csi!;
    const failure = this.faults.forSnapshot('snapshotError', snapshot);
    let cspError: string | undefined;
    if (failure) cspError = `rpc error: code = Internal desc = ${failure.message}`;
    else if (csi.driver !== driver) cspError = `rpc error: code = NotFound desc = source volume ${csi.volumeHandle} not found`;
    const snapshotHandle = `snap-${content.metadata.uid!.replace(/-/g, '').slice(0, 17)}`;
    const cutAt = new Date();
    const restoreSize = (claim.status as { capacity?: { storage?: string } } | undefined)?.capacity?.storage ?? (pv.spec as PvSpec).capacity?.storage ?? '0';
    if (!cspError) {
      try {
        const thaw = this.freezeWriters(namespace!, claim.metadata.name!);
        try {
          this.data.takeSnapshot(pv.metadata.name!, snapshotHandle, { creationTime: rfc3339(cutAt), restoreSize });
        } finally {
          thaw();
        }
      } catch (e) {
        cspError = `rpc error: code = Internal desc = ${(e as Error).message}`;
      }
    }
    if (cspError) {
      const message = `Failed to create snapshot: failed to take snapshot of the volume ${csi.volumeHandle}: ${JSON.stringify(cspError)}`;
      const error = { message, time: now() };
      const failed = this.store.mutate(types.snapshotContents, undefined, content.metadata.name!, (o) => (o.status = { error, readyToUse: false }));
      if (failed) this.events.record(failed, 'Warning', 'SnapshotCreationFailed', message, SIDECAR);
      this.failSnapshot(namespace!, name!, 'SnapshotCreationFailed', message, true);
      return;
    }
    this.store.mutate(types.snapshotContents, undefined, content.metadata.name!, (o) => {
      o.status = { creationTime: cutAt.getTime() * 1_000_000, readyToUse: false, restoreSize: quantityBytes(restoreSize) ?? 0, snapshotHandle };
    });
    const cut = this.store.mutate(types.snapshots, namespace, name!, (o) => {
      o.status = { ...(o.status as object), creationTime: rfc3339(cutAt), readyToUse: false, restoreSize };
    });
    if (cut) this.events.record(cut, 'Normal', 'SnapshotCreated', `Snapshot ${namespace}/${name} was successfully created by the CSI driver.`, CONTROLLER);
    if (this.faults.forSnapshot('snapshotNeverReady', snapshot)) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.markReady(namespace!, name!, content.metadata.name!);
    }, this.readyDelayMs);
    this.timers.add(timer);
  }

  private markReady(namespace: string, name: string, contentName: string): void {
    const content = this.store.mutate(types.snapshotContents, undefined, contentName, (o) => ((o.status as Record<string, unknown>).readyToUse = true));
    if (!content) return;
    const ready = this.store.mutate(types.snapshots, namespace, name, (o) => {
      if ((o.status as { boundVolumeSnapshotContentName?: string } | undefined)?.boundVolumeSnapshotContentName !== contentName) return;
      (o.status as Record<string, unknown>).readyToUse = true;
    });
    if (ready) this.events.record(ready, 'Normal', 'SnapshotReady', `Snapshot ${namespace}/${name} is ready to use.`, CONTROLLER);
  }

  /** A snapshot of an existing VolumeSnapshotContent (spec.source.volumeSnapshotContentName). */
  private bindPreProvisioned(snapshot: KubeObject, contentName: string): void {
    const { namespace, name } = snapshot.metadata;
    const content = this.store.get(types.snapshotContents, undefined, contentName);
    if (!content) throw new SnapshotFailure('SnapshotContentMissing', 'VolumeSnapshotContent is missing');
    const spec = content.spec as { source: { volumeHandle?: string; snapshotHandle?: string }; volumeSnapshotRef: { name?: string; namespace?: string; uid?: string } };
    if (spec.source.volumeHandle) {
      throw new SnapshotFailure('SnapshotContentMismatch', 'VolumeSnapshotContent is dynamically provisioned while expecting a pre-provisioned one');
    }
    const ref = spec.volumeSnapshotRef;
    if (ref.name !== name || ref.namespace !== namespace || (ref.uid && ref.uid !== snapshot.metadata.uid)) {
      throw new SnapshotFailure('SnapshotContentMisbound', `VolumeSnapshotContent [${contentName}] is bound to a different snapshot`);
    }
    const handle = spec.source.snapshotHandle!;
    const stored = this.data.snapshotInfo(handle);
    const updated = this.store.mutate(types.snapshotContents, undefined, contentName, (o) => {
      (o.spec as typeof spec).volumeSnapshotRef.uid = snapshot.metadata.uid;
      o.metadata.finalizers = [...new Set([...(o.metadata.finalizers ?? []), finalizers.content])];
      o.status = stored
        ? { creationTime: Date.parse(stored.creationTime) * 1_000_000, readyToUse: true, restoreSize: quantityBytes(stored.restoreSize) ?? 0, snapshotHandle: handle }
        : { error: { message: `Failed to check and update snapshot content: failed to list snapshot for content ${contentName}: "rpc error: code = NotFound desc = snapshot ${handle} not found"`, time: now() }, readyToUse: false };
    })!;
    const status = updated.status as { error?: { message: string } };
    const deletionPolicy = (updated.spec as { deletionPolicy?: string }).deletionPolicy;
    this.store.mutate(types.snapshots, namespace, name!, (o) => {
      o.status = stored
        ? { boundVolumeSnapshotContentName: contentName, creationTime: stored.creationTime, readyToUse: true, restoreSize: stored.restoreSize }
        : { boundVolumeSnapshotContentName: contentName, error: status.error, readyToUse: false };
      if (deletionPolicy === 'Delete') o.metadata.finalizers = [...new Set([...(o.metadata.finalizers ?? []), finalizers.bound])];
    });
  }

  /** The default class for the claim's CSI driver, as SetDefaultSnapshotClass picks it. */
  private defaultClass(snapshot: KubeObject): KubeObject {
    const fail = (why: string): SnapshotFailure => new SnapshotFailure('SetDefaultSnapshotClassFailed', `Failed to set default snapshot class with error ${why}`, false);
    const claimName = (snapshot.spec as SnapshotSpec).source.persistentVolumeClaimName!;
    const claim = this.store.get(types.pvcs, snapshot.metadata.namespace, claimName);
    if (!claim) throw fail(`failed to retrieve PVC ${claimName} from the lister: ${JSON.stringify(`persistentvolumeclaim "${claimName}" not found`)}`);
    let pv: KubeObject;
    try {
      pv = this.boundVolume(claim);
    } catch (e) {
      throw fail((e as Error).message);
    }
    const csi = (pv.spec as PvSpec).csi;
    if (!csi) throw fail(`snapshotting non-CSI volumes is not supported, snapshot:${snapshot.metadata.namespace}/${snapshot.metadata.name}`);
    const defaults = this.store
      .list(types.snapshotClasses)
      .filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true' && c.driver === csi.driver);
    if (defaults.length === 0) throw fail('cannot find default snapshot class');
    if (defaults.length > 1) throw fail(`${defaults.length} default snapshot classes were found`);
    return defaults[0];
  }

  /** The claim's PersistentVolume, checked as getVolumeFromVolumeSnapshot checks it. */
  private boundVolume(claim: KubeObject): KubeObject {
    const name = claim.metadata.name;
    if ((claim.status as { phase?: string } | undefined)?.phase !== 'Bound') {
      throw new Error(`the PVC ${name} is not yet bound to a PV, will not attempt to take a snapshot`);
    }
    const pvName = (claim.spec as { volumeName?: string }).volumeName ?? '';
    const pv = this.store.get(types.pvs, undefined, pvName);
    if (!pv) throw new Error(`failed to retrieve PV ${pvName} from the API server: ${JSON.stringify(`persistentvolumes "${pvName}" not found`)}`);
    const ref = (pv.spec as PvSpec).claimRef;
    if (!ref || ref.name !== name || ref.namespace !== claim.metadata.namespace || (ref.uid && ref.uid !== claim.metadata.uid)) {
      throw new Error('claim in dataSource not bound or invalid');
    }
    return pv;
  }

  private failSnapshot(namespace: string, name: string, reason: string, message: string, setReadyToFalse: boolean): void {
    const failed = this.store.mutate(types.snapshots, namespace, name, (o) => {
      const status = { ...(o.status as Record<string, unknown> | undefined) };
      status.error = { message, time: now() };
      if (setReadyToFalse) status.readyToUse = false;
      o.status = status;
    });
    if (failed) this.events.record(failed, 'Warning', reason, message, CONTROLLER);
  }

  private addFinalizer(snapshot: KubeObject, finalizer: string): void {
    if (snapshot.metadata.finalizers?.includes(finalizer)) return;
    this.store.mutate(types.snapshots, snapshot.metadata.namespace, snapshot.metadata.name!, (o) => {
      o.metadata.finalizers = [...(o.metadata.finalizers ?? []), finalizer];
    });
  }
}

function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

function now(): string {
  return rfc3339(new Date());
}
