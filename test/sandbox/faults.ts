import { KubeObject } from './api/objectStore';

/** Which objects a fault applies to; every given field must match. */
export interface FaultTarget {
  namespace?: string;
  /** Pod name, exact or by prefix when it ends with `*`. */
  pod?: string;
  /** Pods that mount this PVC (by claim name). */
  pvc?: string;
}

export type Fault =
  | { kind: 'imagePull'; target: FaultTarget }
  | { kind: 'unschedulable'; target: FaultTarget; message?: string }
  | { kind: 'forbid'; verb: string; resource: string; subresource?: string; namespace?: string }
  | { kind: 'execCut'; target: FaultTarget; afterBytes: number }
  | { kind: 'execExitCode'; target: FaultTarget; code: number }
  | { kind: 'execCorrupt'; target: FaultTarget; byteOffset: number }
  | { kind: 'latency'; ms: number; pathPrefix?: string }
  | { kind: 'httpError'; status: 429 | 500 | 503; count: number; retryAfterSeconds?: number; pathPrefix?: string; method?: string };

/** Faults injected by tests; each returns a handle that removes it. */
export class FaultRegistry {
  private readonly faults: Fault[] = [];

  inject(fault: Fault): () => void {
    this.faults.push(fault);
    return () => this.remove(fault);
  }

  clear(): void {
    this.faults.length = 0;
  }

  list(): readonly Fault[] {
    return this.faults;
  }

  forPod<K extends Fault['kind']>(kind: K, pod: KubeObject): Extract<Fault, { kind: K }> | undefined {
    return this.faults.find((f): f is Extract<Fault, { kind: K }> => f.kind === kind && 'target' in f && podMatches(f.target, pod));
  }

  isForbidden(verb: string, resource: string, subresource: string | undefined, namespace: string | undefined): boolean {
    return this.faults.some(
      (f) =>
        f.kind === 'forbid' &&
        f.verb === verb &&
        f.resource === resource &&
        (f.subresource ?? '') === (subresource ?? '') &&
        // A user who may not list pods in one namespace may not list them cluster-wide either.
        (f.namespace === undefined || f.namespace === namespace || (namespace === undefined && (verb === 'list' || verb === 'watch'))),
    );
  }

  latencyFor(path: string): number {
    return this.faults.reduce((ms, f) => (f.kind === 'latency' && (!f.pathPrefix || path.startsWith(f.pathPrefix)) ? ms + f.ms : ms), 0);
  }

  /** Consumes one response of an injected error burst, if one matches. */
  takeHttpError(method: string, path: string): Extract<Fault, { kind: 'httpError' }> | undefined {
    const f = this.faults.find(
      (x): x is Extract<Fault, { kind: 'httpError' }> =>
        x.kind === 'httpError' && (!x.pathPrefix || path.startsWith(x.pathPrefix)) && (!x.method || x.method === method),
    );
    if (!f) return undefined;
    f.count--;
    if (f.count <= 0) this.remove(f);
    return f;
  }

  private remove(fault: Fault): void {
    const i = this.faults.indexOf(fault);
    if (i >= 0) this.faults.splice(i, 1);
  }
}

export function podMatches(target: FaultTarget, pod: KubeObject): boolean {
  if (target.namespace && pod.metadata.namespace !== target.namespace) return false;
  if (target.pod) {
    const name = pod.metadata.name ?? '';
    const ok = target.pod.endsWith('*') ? name.startsWith(target.pod.slice(0, -1)) : name === target.pod;
    if (!ok) return false;
  }
  if (target.pvc) {
    const volumes = ((pod.spec as { volumes?: { persistentVolumeClaim?: { claimName: string } }[] })?.volumes ?? []);
    if (!volumes.some((v) => v.persistentVolumeClaim?.claimName === target.pvc)) return false;
  }
  return true;
}
