import { ResourceType, findResourceType } from '../resourceTypes';

/** What a resource request path addresses, parsed as the API server's RequestInfoFactory does. */
export interface ResourceRequest {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export type ParsedPath =
  | { kind: 'resource'; request: ResourceRequest }
  | { kind: 'unknownResource' }
  | { kind: 'other' };

export function parseResourcePath(pathname: string): ParsedPath {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else {
    return { kind: 'other' };
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !['status', 'finalize'].includes(rest[2])) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  const type = findResourceType(group, version, plural);
  if (!type || extra.length) return { kind: 'unknownResource' };
  if (namespace !== undefined && !type.namespaced) return { kind: 'unknownResource' };
  return { kind: 'resource', request: { type, namespace, name, subresource } };
}
