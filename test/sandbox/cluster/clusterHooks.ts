import type { V1Pod } from '@kubernetes/client-node';
import { KubeObject, ObjectStore } from '../api/objectStore';
import { ResourceHooks } from '../api/restHandler';
import { admitPodSecurity } from '../api/podSecurity';
import { checkPodQuantities } from '../api/resourceQuantities';
import { ResourceType, resourceTypes } from '../resourceTypes';
import { PodLifecycle } from './podLifecycle';
import { Provisioner } from './provisioner';
import { SnapshotController } from './snapshotController';
import { validateSnapshotObject, validateSnapshotUpdate } from './snapshotValidation';
import { types } from './types';

/** Resource-specific behaviour: defaults on create, provisioning, graceful pod deletion, namespace cascade. */
export class ClusterHooks implements ResourceHooks {
  constructor(
    private readonly store: ObjectStore,
    private readonly pods: PodLifecycle,
    private readonly provisioner: Provisioner,
    private readonly snapshots: SnapshotController,
  ) {}

  admit(type: ResourceType, obj: KubeObject): void {
    if (type === types.namespaces) {
      obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name ?? '' };
      obj.spec = { finalizers: ['kubernetes'] };
      obj.status = { phase: 'Active' };
    } else if (type === types.pods) {
      checkPodQuantities(obj);
      this.pods.admit(obj);
      // The real server names the pod before validating admission runs, so a refusal names it too.
      if (!obj.metadata.name && obj.metadata.generateName) obj.metadata.name = obj.metadata.generateName + nameSuffix();
      const namespace = this.store.get(types.namespaces, undefined, obj.metadata.namespace ?? '');
      admitPodSecurity(namespace?.metadata.labels, obj as unknown as V1Pod);
    } else if (type === types.pvcs) {
      const spec = (obj.spec ?? {}) as Record<string, unknown>;
      if (spec.storageClassName === undefined) {
        const fallback = this.provisioner.defaultClassName();
        if (fallback) spec.storageClassName = fallback;
      }
      spec.volumeMode ??= 'Filesystem';
      mirrorDataSource(spec);
      obj.spec = spec;
      if (!spec.volumeName) obj.status = { phase: 'Pending' };
    } else if (isSnapshotType(type)) {
      validateSnapshotObject(type, obj);
      // A custom resource with a status subresource ignores the status sent on create.
      delete obj.status;
    }
  }

  admitUpdate(type: ResourceType, current: KubeObject, next: KubeObject): void {
    if (isSnapshotType(type)) validateSnapshotUpdate(type, current, next);
  }

  updated(type: ResourceType, obj: KubeObject): void {
    if (type === types.snapshots || type === types.snapshotContents) this.snapshots.deletion.updated(type, obj);
  }

  created(type: ResourceType, obj: KubeObject): void {
    if (type === types.pods) this.pods.created(obj);
    else if (type === types.pvcs) this.provisioner.claimCreated(obj);
    else if (type === types.snapshots) this.snapshots.snapshotCreated(obj);
  }

  remove(type: ResourceType, namespace: string | undefined, name: string, gracePeriodSeconds: number | undefined): KubeObject {
    if (type === types.pods) return this.pods.remove(namespace!, name, gracePeriodSeconds);
    if (type === types.namespaces) return this.removeNamespace(name);
    if (type === types.snapshots || type === types.snapshotContents) return this.snapshots.deletion.remove(type, namespace, name);
    const removed = this.store.remove(type, namespace, name);
    if (type === types.pvcs) this.provisioner.claimDeleted(removed);
    return removed;
  }

  /** Like the namespace controller: mark Terminating, delete everything inside, then the namespace itself. */
  private removeNamespace(name: string): KubeObject {
    const terminating = this.store.mutate(types.namespaces, undefined, name, (o) => {
      o.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      o.status = { phase: 'Terminating' };
    })!;
    setImmediate(() => {
      for (const t of resourceTypes.filter((r) => r.namespaced)) {
        for (const o of this.store.list(t, name)) {
          if (t === types.pods) this.pods.remove(name, o.metadata.name!, 0);
          else this.remove(t, name, o.metadata.name!, 0);
        }
      }
      if (this.store.get(types.namespaces, undefined, name)) this.store.remove(types.namespaces, undefined, name);
    });
    return terminating;
  }
}

function isSnapshotType(type: ResourceType): boolean {
  return type === types.snapshots || type === types.snapshotContents || type === types.snapshotClasses;
}

/** With AnyVolumeDataSource (on since 1.24) the API server keeps dataSource and dataSourceRef alike. */
function mirrorDataSource(spec: Record<string, unknown>): void {
  type Ref = { apiGroup?: string; kind?: string; name?: string; namespace?: string };
  const source = spec.dataSource as Ref | undefined;
  const ref = spec.dataSourceRef as Ref | undefined;
  if (source && !ref) spec.dataSourceRef = { ...source };
  else if (ref && !source && !ref.namespace) spec.dataSource = { ...(ref.apiGroup ? { apiGroup: ref.apiGroup } : {}), kind: ref.kind, name: ref.name };
}

const suffixAlphabet = 'bcdfghjklmnpqrstvwxz2456789';
function nameSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += suffixAlphabet[Math.floor(Math.random() * suffixAlphabet.length)];
  return s;
}
