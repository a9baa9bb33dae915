import { IncomingMessage, ServerResponse } from 'node:http';
import { ResourceType, apiVersionOf, findResourceType, hasStatusSubresource } from '../resourceTypes';
import { AccessControl, UserInfo } from './access';
import { readAccessReview } from './accessReview';
import { KubeObject, ObjectStore } from './objectStore';
import { negotiateRepresentation, partialMetadata, partialMetadataList } from './partialMetadata';
import { jsonPatch, mergePatch } from './patch';
import { ResourceRequest } from './requestInfo';
import { hasTablePrinter, toTable } from './tablePrinters';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors';
import { ApiError, errors, successStatus } from './status';
import { withStatusSubresource } from './statusSubresource';
import { serveWatch } from './watchStream';

/** Behaviour of particular resources (pods, PVCs, namespaces) layered over the generic storage. */
export interface ResourceHooks {
  /** Defaults and validation before an object is stored; throws ApiError to refuse. */
  admit(type: ResourceType, obj: KubeObject, dryRun: boolean): void;
  created(type: ResourceType, obj: KubeObject): void;
  /** Deletes (maybe gracefully) and returns what the client gets back. */
  remove(type: ResourceType, namespace: string | undefined, name: string, gracePeriodSeconds: number | undefined): KubeObject;
  /** Validation of a replacement (immutable fields); throws ApiError to refuse. */
  admitUpdate?(type: ResourceType, current: KubeObject, next: KubeObject): void;
  /** Called after a PUT or PATCH stored `obj`, e.g. to finish a deletion whose last finalizer was removed. */
  updated?(type: ResourceType, obj: KubeObject): void;
}

export interface RestContext {
  store: ObjectStore;
  access: AccessControl;
  hooks: ResourceHooks;
}

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function verbOf(method: string, request: ResourceRequest, query: URLSearchParams): string {
  if (request.subresource === 'exec') return 'create';
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (isTrue(query.get('watch'))) return 'watch';
      return request.name ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return request.name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

/** Serves one authorized resource request (everything but exec). */
export async function handleResource(ctx: RestContext, user: UserInfo, req: IncomingMessage, res: ServerResponse, request: ResourceRequest, body: Buffer): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://sandbox');
  const q = url.searchParams;
  const { type, namespace, name, subresource } = request;
  const method = req.method ?? 'GET';
  const dryRun = q.get('dryRun') === 'All';

  if (type.plural === 'selfsubjectaccessreviews') {
    if (method !== 'POST') throw errors.methodNotAllowed();
    const review = readAccessReview(body, req.headers['content-type'] ?? 'application/json');
    const ra = review.spec.resourceAttributes;
    const decision = ra
      ? ctx.access.authorize({ user, verb: ra.verb ?? '', group: ra.group ?? '', resource: ra.resource ?? '', subresource: ra.subresource || undefined, namespace: ra.namespace || undefined, name: ra.name || undefined })
      : { allowed: user.groups.includes('system:masters'), reason: '' };
    return sendJson(res, 201, {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { ...review.metadata, creationTimestamp: null },
      spec: review.spec,
      // Like RBAC, a denial carries no reason, so `kubectl auth can-i` prints a bare "no".
      status: decision.allowed ? { allowed: true, reason: decision.reason } : { allowed: false },
    });
  }

  const statusWrite = subresource === 'status' && (method === 'PUT' || method === 'PATCH') && hasStatusSubresource(type.plural);
  if (subresource && !(subresource === 'status' && (method === 'GET' || method === 'HEAD')) && !statusWrite) throw errors.methodNotAllowed();
  if (namespace !== undefined && method === 'POST' && !ctx.store.get(namespacesType, undefined, namespace)) {
    throw errors.notFound('namespaces', '', namespace);
  }

  switch (method) {
    case 'GET':
    case 'HEAD': {
      const listing = !name || isTrue(q.get('watch'));
      const representation = isTrue(q.get('watch')) ? undefined : negotiateRepresentation(req.headers.accept, listing, hasTablePrinter(type.plural));
      if (!listing) {
        const obj = ctx.store.get(type, namespace, name!);
        if (!obj) throw errors.notFound(type.plural, type.group, name!);
        if (representation?.kind === 'table') return sendJson(res, 200, toTable(type.plural, [obj], { resourceVersion: obj.metadata.resourceVersion }, representation.version, q.get('includeObject')));
        return sendJson(res, 200, representation?.kind === 'partialMetadata' ? partialMetadata(obj, representation.version) : obj);
      }
      const labels = parseLabelSelector(q.get('labelSelector') ?? undefined);
      const fields = parseFieldSelector(q.get('fieldSelector') ?? undefined, type.plural);
      const matches = (o: KubeObject): boolean => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o) && (!name || o.metadata.name === name);
      if (isTrue(q.get('watch'))) {
        return serveWatch(ctx.store, req, res, {
          type,
          namespace,
          matches,
          resourceVersion: q.get('resourceVersion') ?? undefined,
          timeoutSeconds: q.has('timeoutSeconds') ? Number(q.get('timeoutSeconds')) : undefined,
          sendInitialEvents: isTrue(q.get('sendInitialEvents')),
        });
      }
      const page = listPage(ctx.store, type, namespace, matches, q);
      if (representation?.kind === 'table') return sendJson(res, 200, toTable(type.plural, page.items, page.metadata, representation.version, q.get('includeObject')));
      return sendJson(res, 200, representation?.kind === 'partialMetadata' ? partialMetadataList(page, representation.version) : page);
    }
    case 'POST': {
      if (name) throw errors.methodNotAllowed();
      const obj = parseObject(body, req.headers['content-type']);
      obj.metadata = obj.metadata ?? {};
      if (type.namespaced) {
        if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
          throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
        }
        obj.metadata.namespace = namespace;
      } else delete obj.metadata.namespace;
      if (obj.apiVersion && obj.apiVersion !== apiVersionOf(type)) throw errors.badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersionOf(type)})`);
      if (obj.kind && obj.kind !== type.kind) throw errors.badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${type.kind})`);
      validateName(type, obj);
      ctx.hooks.admit(type, obj, dryRun);
      if (dryRun) {
        if (obj.metadata.name && ctx.store.get(type, namespace, obj.metadata.name)) throw errors.alreadyExists(type.plural, type.group, obj.metadata.name);
        return sendJson(res, 201, { ...obj, apiVersion: apiVersionOf(type), kind: type.kind });
      }
      const created = ctx.store.create(type, obj);
      ctx.hooks.created(type, created);
      return sendJson(res, 201, created);
    }
    case 'PUT': {
      if (!name) throw errors.methodNotAllowed();
      const obj = parseObject(body, req.headers['content-type']);
      if (obj.metadata?.name !== name) throw errors.badRequest('the name of the object does not match the name on the URL');
      if (type.namespaced) obj.metadata.namespace = namespace;
      const current = ctx.store.get(type, namespace, name);
      if (!current) throw errors.notFound(type.plural, type.group, name);
      const replacement = withStatusSubresource(type, subresource, current, obj);
      ctx.hooks.admitUpdate?.(type, current, replacement);
      if (dryRun) return sendJson(res, 200, replacement);
      const stored = ctx.store.update(type, replacement, obj.metadata.resourceVersion);
      ctx.hooks.updated?.(type, stored);
      return sendJson(res, 200, stored);
    }
    case 'PATCH': {
      if (!name) throw errors.methodNotAllowed();
      const current = ctx.store.get(type, namespace, name);
      if (!current) throw errors.notFound(type.plural, type.group, name);
      const contentType = (req.headers['content-type'] ?? '').split(';')[0];
      const patch = parseJson(body);
      let next: KubeObject;
      if (contentType === 'application/json-patch+json') next = jsonPatch(current, patch as never) as KubeObject;
      else if (contentType === 'application/merge-patch+json' || contentType === 'application/strategic-merge-patch+json') next = mergePatch(current, patch) as KubeObject;
      else throw errors.unsupportedMediaType(contentType);
      next.metadata.name = name;
      next.metadata.namespace = current.metadata.namespace;
      const replacement = withStatusSubresource(type, subresource, current, next);
      ctx.hooks.admitUpdate?.(type, current, replacement);
      if (dryRun) return sendJson(res, 200, replacement);
      const stored = ctx.store.update(type, replacement);
      ctx.hooks.updated?.(type, stored);
      return sendJson(res, 200, stored);
    }
    case 'DELETE': {
      if (!name) throw errors.methodNotAllowed();
      const options = body.length ? (parseJson(body) as { gracePeriodSeconds?: number; preconditions?: { uid?: string } }) : {};
      const grace = q.has('gracePeriodSeconds') ? Number(q.get('gracePeriodSeconds')) : options.gracePeriodSeconds;
      const current = ctx.store.get(type, namespace, name);
      if (!current) throw errors.notFound(type.plural, type.group, name);
      if (options.preconditions?.uid && options.preconditions.uid !== current.metadata.uid) {
        throw errors.conflict(type.plural, type.group, name, `Precondition failed: UID in precondition: ${options.preconditions.uid}, UID in object meta: ${current.metadata.uid}`);
      }
      if (dryRun) return sendJson(res, 200, current);
      const result = ctx.hooks.remove(type, namespace, name, grace);
      return sendJson(res, 200, result.metadata.deletionTimestamp ? result : { ...successStatus({ name, group: type.group || undefined, kind: type.plural }), details: { name, group: type.group, kind: type.plural, uid: result.metadata.uid } });
    }
    default:
      throw errors.methodNotAllowed();
  }
}

function listPage(store: ObjectStore, type: ResourceType, namespace: string | undefined, matches: (o: KubeObject) => boolean, q: URLSearchParams): { kind: string; apiVersion: string; metadata: Record<string, unknown>; items: KubeObject[] } {
  // The stored objects are only read and serialized here; copying every one of them per page made large lists quadratic.
  const all = store.listShared(type, namespace);
  const limit = Number(q.get('limit') ?? 0);
  const token = q.get('continue');
  let rv = String(store.currentRevision);
  let start = 0;
  if (token) {
    let from: { rv: string; after: string };
    try {
      from = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    } catch {
      throw errors.badRequest('continue key is not valid: illegal base64 data');
    }
    rv = from.rv;
    start = firstAfter(all, from.after);
  }
  const items: KubeObject[] = [];
  let next = start;
  for (; next < all.length && (limit <= 0 || items.length < limit); next++) if (matches(all[next])) items.push(all[next]);
  const metadata: Record<string, unknown> = { resourceVersion: rv };
  const remaining = countMatching(all, next, matches);
  if (limit > 0 && remaining > 0) {
    metadata.continue = Buffer.from(JSON.stringify({ rv, after: keyOf(items[items.length - 1]) })).toString('base64');
    metadata.remainingItemCount = remaining;
  }
  // The real server leaves kind and apiVersion off list items.
  const bare = items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest as KubeObject);
  return { kind: `${type.kind}List`, apiVersion: apiVersionOf(type), metadata, items: bare };
}

/** Index of the first object whose key sorts after `after` (objects are in key order). */
function firstAfter(objects: readonly KubeObject[], after: string): number {
  let lo = 0;
  let hi = objects.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyOf(objects[mid]) > after) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function countMatching(objects: readonly KubeObject[], from: number, matches: (o: KubeObject) => boolean): number {
  let count = 0;
  for (let i = from; i < objects.length; i++) if (matches(objects[i])) count++;
  return count;
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}\u0000${o.metadata.name ?? ''}`;
}

function validateName(type: ResourceType, obj: KubeObject): void {
  const name = obj.metadata.name;
  if (!name && !obj.metadata.generateName) {
    throw errors.invalid(type.kind, type.group, '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
  }
  if (name) {
    const pattern = type.plural === 'namespaces' ? dns1123Label : dns1123Subdomain;
    if (!pattern.test(name) || name.length > 253 || (type.plural === 'namespaces' && name.length > 63)) {
      throw errors.invalid(type.kind, type.group, name, [
        { field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 ${pattern === dns1123Label ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character` },
      ]);
    }
  }
}

const namespacesType = findResourceType('', 'v1', 'namespaces')!;

function parseObject(body: Buffer, contentType: string | undefined): KubeObject {
  const type = (contentType ?? 'application/json').split(';')[0].trim();
  if (type !== 'application/json' && type !== '') throw errors.unsupportedMediaType(type);
  const obj = parseJson(body);
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw errors.badRequest('the request body must be a JSON object');
  return obj as KubeObject;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw errors.badRequest(`the request body is not valid JSON: ${(e as Error).message}`);
  }
}

function isTrue(v: string | null): boolean {
  return v === 'true' || v === '1';
}

export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, error: unknown): void {
  const e = error instanceof ApiError ? error : errors.internal((error as Error)?.message ?? String(error));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, e.code, e.body, e.headers);
}
