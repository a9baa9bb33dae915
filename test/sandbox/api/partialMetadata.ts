import { KubeObject } from './objectStore';
import { ApiError } from './status';

/** What a read returns: the objects themselves, or only their metadata (meta.k8s.io PartialObjectMetadata). */
export type Representation = { kind: 'object' } | { kind: 'partialMetadata'; version: string } | { kind: 'table'; version: string };

const servedVersions = new Set(['v1', 'v1beta1']);

/**
 * Picks the representation from the Accept header as the API server's content negotiation does
 * for the forms clients send: `application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`
 * for a list, `...;as=PartialObjectMetadata;...` for one object, usually with a plain
 * `application/json` fallback. A list asked for as PartialObjectMetadata (or an object as ...List)
 * is not acceptable; when no clause is, the server answers 406. `as=Table` is served where the
 * resource has a table printer (`tables`); elsewhere it falls through to the next clause.
 */
export function negotiateRepresentation(accept: string | undefined, isList: boolean, tables = false): Representation {
  if (!accept) return { kind: 'object' };
  let askedForMetadata = false;
  for (const clause of accept.split(',')) {
    const [mediaType, ...rawParams] = clause.split(';').map((p) => p.trim());
    const params = new Map(rawParams.map((p) => p.split('=').map((x) => x.trim()) as [string, string]));
    if (!['application/json', 'application/*', '*/*'].includes(mediaType.toLowerCase())) continue;
    if (params.get('q') === '0') continue;
    const as = params.get('as');
    if (!as) return { kind: 'object' };
    if (as === 'Table') {
      if (tables && params.get('g') === 'meta.k8s.io' && servedVersions.has(params.get('v') ?? '')) return { kind: 'table', version: params.get('v')! };
      continue;
    }
    if (as !== 'PartialObjectMetadata' && as !== 'PartialObjectMetadataList') continue;
    askedForMetadata = true;
    if (params.get('g') !== 'meta.k8s.io' || !servedVersions.has(params.get('v') ?? '')) continue;
    if ((as === 'PartialObjectMetadataList') === isList) return { kind: 'partialMetadata', version: params.get('v')! };
  }
  if (askedForMetadata) throw notAcceptable();
  return { kind: 'object' };
}

/** The list as PartialObjectMetadataList: list metadata kept, each item reduced to its metadata. */
export function partialMetadataList(list: { metadata: Record<string, unknown>; items: { metadata: KubeObject['metadata'] }[] }, version: string): object {
  return {
    kind: 'PartialObjectMetadataList',
    apiVersion: `meta.k8s.io/${version}`,
    metadata: list.metadata,
    items: list.items.map((item) => partialMetadata(item, version)),
  };
}

export function partialMetadata(object: { metadata: KubeObject['metadata'] }, version: string): object {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: object.metadata };
}

function notAcceptable(): ApiError {
  return new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf',
    reason: 'NotAcceptable',
    code: 406,
  });
}
