import { KubeObject } from './objectStore';
import { Fields, messageField, readFields, stringField, unwrapKubernetesProtobuf } from './protobuf';
import { errors } from './status';

export interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

export interface AccessReviewSpec {
  resourceAttributes?: ResourceAttributes;
  nonResourceAttributes?: { path?: string; verb?: string };
}

/** Reads a SelfSubjectAccessReview from JSON or from the protobuf `kubectl auth can-i` sends. */
export function readAccessReview(body: Buffer, contentType: string): { metadata: KubeObject['metadata']; spec: AccessReviewSpec } {
  if (contentType.startsWith('application/vnd.kubernetes.protobuf')) {
    let review: Fields;
    try {
      review = readFields(unwrapKubernetesProtobuf(body).raw);
    } catch (e) {
      throw errors.badRequest(`unable to decode protobuf SelfSubjectAccessReview: ${(e as Error).message}`);
    }
    const spec = messageField(review, 2);
    const ra = spec && messageField(spec, 1);
    const nra = spec && messageField(spec, 2);
    return {
      metadata: {},
      spec: {
        resourceAttributes: ra && {
          namespace: stringField(ra, 1) ?? '',
          verb: stringField(ra, 2) ?? '',
          group: stringField(ra, 3) ?? '',
          version: stringField(ra, 4) ?? '',
          resource: stringField(ra, 5) ?? '',
          subresource: stringField(ra, 6) ?? '',
          name: stringField(ra, 7) ?? '',
        },
        nonResourceAttributes: nra && { path: stringField(nra, 1) ?? '', verb: stringField(nra, 2) ?? '' },
      },
    };
  }
  let parsed: { metadata?: KubeObject['metadata']; spec?: AccessReviewSpec };
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw errors.badRequest('the request body is not valid JSON');
  }
  if (!parsed.spec?.resourceAttributes && !parsed.spec?.nonResourceAttributes) {
    throw errors.invalid('SelfSubjectAccessReview', 'authorization.k8s.io', '', [
      { field: 'spec.resourceAttributes', message: 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified' },
    ]);
  }
  return { metadata: parsed.metadata ?? {}, spec: parsed.spec };
}
