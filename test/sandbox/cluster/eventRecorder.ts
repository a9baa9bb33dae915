import { KubeObject, ObjectStore } from '../api/objectStore';
import { types } from './types';

/** Records core/v1 Events the way kubelet and the scheduler do, folding repeats into a count. */
export class EventRecorder {
  /** Like the kubelet's UnixNano suffix, but never the same twice: two events in one millisecond once collided. */
  private lastStamp = 0n;

  constructor(private readonly store: ObjectStore) {}

  private uniqueStamp(): string {
    const now = BigInt(Date.now()) * 1_000_000n;
    this.lastStamp = now > this.lastStamp ? now : this.lastStamp + 1n;
    return this.lastStamp.toString(16);
  }

  record(involved: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, component: string): void {
    const namespace = involved.metadata.namespace ?? 'default';
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const existing = this.store
      .list(types.events, namespace)
      .find((e) => (e.involvedObject as { uid?: string }).uid === involved.metadata.uid && e.reason === reason && e.message === message);
    if (existing) {
      this.store.mutate(types.events, namespace, existing.metadata.name!, (e) => {
        e.count = ((e.count as number) ?? 1) + 1;
        e.lastTimestamp = now;
      });
      return;
    }
    if (!this.store.get(types.namespaces, undefined, namespace)) return;
    this.store.create(types.events, {
      metadata: { name: `${involved.metadata.name}.${this.uniqueStamp()}`, namespace },
      involvedObject: {
        kind: involved.kind,
        namespace,
        name: involved.metadata.name,
        uid: involved.metadata.uid,
        apiVersion: involved.apiVersion,
        resourceVersion: involved.metadata.resourceVersion,
      },
      reason,
      message,
      source: { component },
      reportingComponent: component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
    });
  }
}
