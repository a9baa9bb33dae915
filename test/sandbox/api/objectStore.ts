import { randomUUID } from 'node:crypto';
import { ResourceType, apiVersionOf } from '../resourceTypes';
import { errors } from './status';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  finalizers?: string[];
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface StoreEvent {
  type: WatchEventType;
  resource: ResourceType;
  object: KubeObject;
  rv: number;
}
type Listener = (event: StoreEvent) => void;

const historyLimit = 20000;
const historyTrimBatch = 1000;

/** In-memory objects with resource versions and an event history for watches, like etcd behind the API server. */
export class ObjectStore {
  private readonly objects = new Map<string, KubeObject>();
  /** Type, then namespace ('' for cluster-scoped objects), then the objects in key order. */
  private readonly index = new Map<string, Map<string, NamespaceObjects>>();
  private readonly allSorted = new Map<string, KubeObject[]>();
  private readonly history: StoreEvent[] = [];
  private readonly listeners = new Set<Listener>();
  private revision = 1;

  get currentRevision(): number {
    return this.revision;
  }

  get oldestWatchableRevision(): number {
    return this.history.length ? this.history[0].rv - 1 : this.revision;
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.objects.get(keyOf(type, namespace, name));
    return found ? clone(found) : undefined;
  }

  /** Objects of a type, ordered by namespace then name as etcd keys order them. */
  list(type: ResourceType, namespace?: string): KubeObject[] {
    return this.listShared(type, namespace).map(clone);
  }

  /**
   * The stored objects themselves, in key order, without copying: for reads that only serialize
   * (a list page). Callers must not modify them. The order is kept per type and namespace, so a
   * paged list of a large cluster costs a slice per page, not a scan and sort of everything.
   */
  listShared(type: ResourceType, namespace?: string): readonly KubeObject[] {
    const byNamespace = this.index.get(typeKeyOf(type));
    if (!byNamespace) return [];
    const scope = type.namespaced ? namespace : undefined;
    if (scope !== undefined) return byNamespace.get(scope)?.sorted() ?? [];
    const cacheKey = typeKeyOf(type);
    let all = this.allSorted.get(cacheKey);
    if (!all) {
      all = [...byNamespace.keys()].sort(compareStrings).flatMap((ns) => byNamespace.get(ns)!.sorted());
      this.allSorted.set(cacheKey, all);
    }
    return all;
  }

  create(type: ResourceType, input: KubeObject): KubeObject {
    const obj = clone(input);
    obj.apiVersion = apiVersionOf(type);
    obj.kind = type.kind;
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix();
    const key = keyOf(type, meta.namespace, meta.name!);
    if (this.objects.has(key)) throw errors.alreadyExists(type.plural, type.group, meta.name!);
    meta.uid = randomUUID();
    meta.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    delete meta.deletionTimestamp;
    meta.resourceVersion = String(++this.revision);
    this.objects.set(key, obj);
    this.indexPut(type, obj);
    this.emit('ADDED', type, obj);
    return clone(obj);
  }

  /** Replaces an object; `expectedVersion` gives optimistic concurrency as the real server does. */
  update(type: ResourceType, input: KubeObject, expectedVersion?: string): KubeObject {
    const meta = input.metadata;
    const key = keyOf(type, meta.namespace, meta.name!);
    const current = this.objects.get(key);
    if (!current) throw errors.notFound(type.plural, type.group, meta.name!);
    if (expectedVersion && expectedVersion !== current.metadata.resourceVersion) {
      throw errors.conflict(type.plural, type.group, meta.name!, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    const obj = clone(input);
    obj.apiVersion = apiVersionOf(type);
    obj.kind = type.kind;
    obj.metadata.uid = current.metadata.uid;
    obj.metadata.creationTimestamp = current.metadata.creationTimestamp;
    obj.metadata.resourceVersion = String(++this.revision);
    this.objects.set(key, obj);
    this.indexPut(type, obj);
    this.emit('MODIFIED', type, obj);
    return clone(obj);
  }

  /** Applies a change to the stored object, if it still exists. */
  mutate(type: ResourceType, namespace: string | undefined, name: string, change: (obj: KubeObject) => void): KubeObject | undefined {
    const current = this.objects.get(keyOf(type, namespace, name));
    if (!current) return undefined;
    const next = clone(current);
    change(next);
    return this.update(type, next);
  }

  remove(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const key = keyOf(type, namespace, name);
    const current = this.objects.get(key);
    if (!current) throw errors.notFound(type.plural, type.group, name);
    this.objects.delete(key);
    this.indexDelete(type, current);
    const gone = clone(current);
    gone.metadata.resourceVersion = String(++this.revision);
    this.emit('DELETED', type, gone);
    return clone(gone);
  }

  /** Events after `fromRevision`, or undefined when they are no longer kept (the client must relist). */
  eventsSince(fromRevision: number): StoreEvent[] | undefined {
    if (fromRevision < this.oldestWatchableRevision) return undefined;
    return this.history.filter((e) => e.rv > fromRevision);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private indexPut(type: ResourceType, obj: KubeObject): void {
    const typeKey = typeKeyOf(type);
    let byNamespace = this.index.get(typeKey);
    if (!byNamespace) this.index.set(typeKey, (byNamespace = new Map()));
    const namespace = type.namespaced ? obj.metadata.namespace ?? '' : '';
    let objects = byNamespace.get(namespace);
    if (!objects) byNamespace.set(namespace, (objects = new NamespaceObjects()));
    objects.put(obj);
    this.allSorted.delete(typeKey);
  }

  private indexDelete(type: ResourceType, obj: KubeObject): void {
    const typeKey = typeKeyOf(type);
    const byNamespace = this.index.get(typeKey);
    const namespace = type.namespaced ? obj.metadata.namespace ?? '' : '';
    const objects = byNamespace?.get(namespace);
    if (!objects) return;
    objects.delete(obj.metadata.name!);
    if (objects.size === 0) byNamespace!.delete(namespace);
    this.allSorted.delete(typeKey);
  }

  private emit(type: WatchEventType, resource: ResourceType, obj: KubeObject): void {
    const event: StoreEvent = { type, resource, object: clone(obj), rv: this.revision };
    this.history.push(event);
    // Trimmed in batches: splicing one event off a 20,000-event array on every write made bulk writes quadratic.
    if (this.history.length > historyLimit + historyTrimBatch) this.history.splice(0, this.history.length - historyLimit);
    for (const listener of this.listeners) listener(event);
  }
}

/** The objects of one type in one namespace, sorted by name on demand and kept sorted until the next write. */
class NamespaceObjects {
  private readonly byName = new Map<string, KubeObject>();
  private order: KubeObject[] | undefined;

  get size(): number {
    return this.byName.size;
  }

  put(obj: KubeObject): void {
    this.byName.set(obj.metadata.name!, obj);
    this.order = undefined;
  }

  delete(name: string): void {
    this.byName.delete(name);
    this.order = undefined;
  }

  sorted(): KubeObject[] {
    this.order ??= [...this.byName.values()].sort((a, b) => compareStrings(a.metadata.name ?? '', b.metadata.name ?? ''));
    return this.order;
  }
}

function typeKeyOf(type: ResourceType): string {
  return `${type.group}/${type.plural}`;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function keyOf(type: ResourceType, namespace: string | undefined, name: string): string {
  return `${type.group}/${type.plural}|${type.namespaced ? namespace ?? '' : ''}|${name}`;
}

const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}
