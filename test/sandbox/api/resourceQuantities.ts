import type { KubeObject } from './objectStore';
import { errors } from './status';

/** The regular expression the API server names when a quantity does not parse (resource.Quantity). */
const SERVER_PATTERN = '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$';
/** What actually parses: a decimal number, then a binary or decimal SI suffix or a decimal exponent. */
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][-+]?\d+)?$/;

/**
 * Refuses a pod whose container resources hold a value that is not a Kubernetes quantity, as the
 * API server does while decoding the body (400, before any validation or admission runs).
 */
export function checkPodQuantities(pod: KubeObject): void {
  const spec = (pod.spec ?? {}) as { containers?: unknown[]; initContainers?: unknown[] };
  for (const container of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    const resources = (container as { resources?: Record<string, Record<string, unknown> | undefined> }).resources ?? {};
    for (const values of [resources.requests, resources.limits]) {
      for (const value of Object.values(values ?? {})) {
        if (!(typeof value === 'string' && QUANTITY.test(value)) && !(typeof value === 'number' && Number.isFinite(value))) {
          throw errors.badRequest(`Pod in version "v1" cannot be handled as a Pod: quantities must match the regular expression '${SERVER_PATTERN}'`);
        }
      }
    }
  }
}
