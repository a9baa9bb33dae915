import { KubeObject, ObjectStore } from '../api/objectStore';
import { ResourceType } from '../resourceTypes';
import { EventRecorder } from './eventRecorder';
import { types } from './types';
import { VolumeData } from './volumeData';

/** The finalizers the snapshot controller puts on VolumeSnapshots and their contents (pkg/utils/util.go). */
export const finalizers = {
  asSource: 'snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection',
  bound: 'snapshot.storage.kubernetes.io/volumesnapshot-bound-protection',
  content: 'snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection',
};
const BEING_DELETED = 'snapshot.storage.kubernetes.io/volumesnapshot-being-deleted';

interface ContentSpec {
  deletionPolicy: string;
  volumeSnapshotRef: { name?: string; namespace?: string; uid?: string };
}

/**
 * Deletion as the snapshot controller and sidecar carry it out: a DELETE only marks a snapshot that has
 * finalizers; it goes once no claim is being provisioned from it, taking its content and the snapshot's
 * data along when the deletion policy is Delete. With Retain the content and the data stay.
 */
export class SnapshotDeletion {
  private readonly unsubscribe: () => void;

  constructor(private readonly store: ObjectStore, private readonly data: VolumeData, private readonly events: EventRecorder) {
    // A claim that finished provisioning from a snapshot releases that snapshot's pending deletion.
    this.unsubscribe = store.subscribe((e) => {
      if (e.resource === types.pvcs && e.type !== 'ADDED') setImmediate(() => this.retryTerminating(e.object.metadata.namespace!));
    });
  }

  stop(): void {
    this.unsubscribe();
  }

  remove(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const current = this.store.get(type, namespace, name);
    if (!current?.metadata.finalizers?.length) return this.store.remove(type, namespace, name);
    const marked = current.metadata.deletionTimestamp ? current : this.markDeleted(type, namespace, name)!;
    setImmediate(() => (type === types.snapshots ? this.finishSnapshot(namespace!, name) : this.finishContent(name)));
    return marked;
  }

  /** A write that removed the last finalizer of an object being deleted completes the deletion. */
  updated(type: ResourceType, obj: KubeObject): void {
    if (obj.metadata.deletionTimestamp && !obj.metadata.finalizers?.length) this.store.remove(type, obj.metadata.namespace, obj.metadata.name!);
    else if (obj.metadata.deletionTimestamp && type === types.snapshots) setImmediate(() => this.finishSnapshot(obj.metadata.namespace!, obj.metadata.name!));
  }

  private retryTerminating(namespace: string): void {
    for (const snapshot of this.store.list(types.snapshots, namespace)) {
      if (snapshot.metadata.deletionTimestamp) this.finishSnapshot(namespace, snapshot.metadata.name!);
    }
  }

  private finishSnapshot(namespace: string, name: string): void {
    const snapshot = this.store.get(types.snapshots, namespace, name);
    if (!snapshot?.metadata.deletionTimestamp) return;
    if (this.restoringFrom(snapshot)) {
      this.events.record(snapshot, 'Warning', 'SnapshotDeletePending', 'Snapshot is being used to restore a PVC', 'snapshot-controller');
      return;
    }
    const contentName = (snapshot.status as { boundVolumeSnapshotContentName?: string } | undefined)?.boundVolumeSnapshotContentName;
    const content = contentName ? this.store.get(types.snapshotContents, undefined, contentName) : undefined;
    const spec = content?.spec as ContentSpec | undefined;
    if (content && spec && spec.volumeSnapshotRef.uid === snapshot.metadata.uid && spec.deletionPolicy === 'Delete') {
      if (!content.metadata.deletionTimestamp) this.markDeleted(types.snapshotContents, undefined, contentName!, BEING_DELETED);
      this.finishContent(contentName!);
    }
    const left = this.store.mutate(types.snapshots, namespace, name, (o) => {
      o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => f !== finalizers.asSource && f !== finalizers.bound);
    });
    if (left && !left.metadata.finalizers?.length) this.store.remove(types.snapshots, namespace, name);
  }

  /** The sidecar's part: delete the snapshot on the storage (policy Delete), then release the content. */
  private finishContent(name: string): void {
    const content = this.store.get(types.snapshotContents, undefined, name);
    if (!content?.metadata.deletionTimestamp) return;
    const spec = content.spec as ContentSpec;
    const snapshot = this.store.get(types.snapshots, spec.volumeSnapshotRef.namespace, spec.volumeSnapshotRef.name ?? '');
    // Still bound to a live snapshot: the content stays until that snapshot goes.
    if (snapshot && snapshot.metadata.uid === spec.volumeSnapshotRef.uid && !snapshot.metadata.deletionTimestamp) return;
    const handle = (content.status as { snapshotHandle?: string } | undefined)?.snapshotHandle;
    if (spec.deletionPolicy === 'Delete' && handle) this.data.removeSnapshot(handle);
    const left = this.store.mutate(types.snapshotContents, undefined, name, (o) => {
      o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => f !== finalizers.content);
    });
    if (left && !left.metadata.finalizers?.length) this.store.remove(types.snapshotContents, undefined, name);
  }

  /** isVolumeBeingCreatedFromSnapshot: a Pending claim names this snapshot as its data source. */
  private restoringFrom(snapshot: KubeObject): boolean {
    return this.store.list(types.pvcs, snapshot.metadata.namespace).some((claim) => {
      const source = (claim.spec as { dataSource?: { apiGroup?: string; kind?: string; name?: string } }).dataSource;
      const pending = (claim.status as { phase?: string } | undefined)?.phase === 'Pending';
      return pending && source?.kind === 'VolumeSnapshot' && source.apiGroup === 'snapshot.storage.k8s.io' && source.name === snapshot.metadata.name;
    });
  }

  private markDeleted(type: ResourceType, namespace: string | undefined, name: string, annotation?: string): KubeObject | undefined {
    return this.store.mutate(type, namespace, name, (o) => {
      o.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      o.metadata.deletionGracePeriodSeconds = 0;
      if (annotation) o.metadata.annotations = { ...o.metadata.annotations, [annotation]: 'yes' };
    });
  }
}
