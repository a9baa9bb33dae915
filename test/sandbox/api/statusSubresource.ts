import { hasStatusSubresource, ResourceType } from '../resourceTypes';
import { KubeObject } from './objectStore';

/**
 * For resources with a status subresource, as the API server treats CRDs declaring one: a write to the
 * object keeps the stored status, and a write to `/status` changes nothing but the status.
 */
export function withStatusSubresource(type: ResourceType, subresource: string | undefined, current: KubeObject, next: KubeObject): KubeObject {
  if (!hasStatusSubresource(type.plural)) return next;
  if (subresource === 'status') {
    const { status } = next;
    return { ...structuredClone(current), status, metadata: { ...structuredClone(current.metadata), resourceVersion: next.metadata.resourceVersion } };
  }
  const replacement: KubeObject = { ...next };
  if (current.status === undefined) delete replacement.status;
  else replacement.status = structuredClone(current.status);
  return replacement;
}
