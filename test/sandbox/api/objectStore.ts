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

/** In-memory objects with resource versions and an event history for watches, like etcd behind the API server. */
export class ObjectStore {
  private readonly objects = new Map<string, KubeObject>();
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
    const prefix = `${type.group}/${type.plural}|${namespace ?? ''}`;
    const out: KubeObject[] = [];
    for (const [key, obj] of this.objects) {
      if (namespace === undefined ? key.startsWith(`${type.group}/${type.plural}|`) : key.startsWith(`${prefix}|`)) out.push(obj);
    }
    out.sort((a, b) => compareKeys(a, b));
    return out.map(clone);
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

  private emit(type: WatchEventType, resource: ResourceType, obj: KubeObject): void {
    const event: StoreEvent = { type, resource, object: clone(obj), rv: this.revision };
    this.history.push(event);
    if (this.history.length > historyLimit) this.history.splice(0, this.history.length - historyLimit);
    for (const listener of this.listeners) listener(event);
  }
}

function keyOf(type: ResourceType, namespace: string | undefined, name: string): string {
  return `${type.group}/${type.plural}|${type.namespaced ? namespace ?? '' : ''}|${name}`;
}

function compareKeys(a: KubeObject, b: KubeObject): number {
  const an = a.metadata.namespace ?? '';
  const bn = b.metadata.namespace ?? '';
  if (an !== bn) return an < bn ? -1 : 1;
  const a1 = a.metadata.name ?? '';
  const b1 = b.metadata.name ?? '';
  return a1 < b1 ? -1 : a1 > b1 ? 1 : 0;
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
