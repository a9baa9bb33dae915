import { KubeObject } from './api/objectStore';

/** Which objects a fault applies to; every given field must match. */
export interface FaultTarget {
  namespace?: string;
  /** Pod name, exact or by prefix when it ends with `*`. */
  pod?: string;
  /** Pods that mount this PVC (by claim name). */
  pvc?: string;
}

/** Which VolumeSnapshots a snapshot fault applies to; every given field must match. */
export interface SnapshotFaultTarget {
  namespace?: string;
  /** VolumeSnapshot name, exact or by prefix when it ends with `*`. */
  snapshot?: string;
  /** Snapshots of this claim (spec.source.persistentVolumeClaimName). */
  pvc?: string;
}

export type Fault =
  | { kind: 'imagePull'; target: FaultTarget }
  | { kind: 'unschedulable'; target: FaultTarget; message?: string }
  | { kind: 'forbid'; verb: string; resource: string; subresource?: string; namespace?: string }
  /** Exec streams of the target's pods drop after `afterBytes` stdout bytes; with `count`, only that many streams are cut. */
  | { kind: 'execCut'; target: FaultTarget; afterBytes: number; count?: number }
  /** Each exec stream of the target's pods carries at most this many bytes per second each way, as over a slow link. */
  | { kind: 'execBandwidth'; target: FaultTarget; bytesPerSecond: number }
  | { kind: 'execExitCode'; target: FaultTarget; code: number }
  /** Flips the bits of one stdout byte; with `count`, only in that many streams. */
  | { kind: 'execCorrupt'; target: FaultTarget; byteOffset: number; count?: number }
  | { kind: 'latency'; ms: number; pathPrefix?: string }
  /** The server speaks only these exec subprotocols, as servers before 1.30 speak only v4.channel.k8s.io. */
  | { kind: 'execProtocols'; protocols: string[] }
  /** `skip` lets that many matching requests through first, e.g. to fail the second page of a list. */
  | { kind: 'httpError'; status: 429 | 500 | 503; count: number; retryAfterSeconds?: number; pathPrefix?: string; method?: string; skip?: number }
  /** The connection is dropped before an answer, as a load balancer or a restarting API server does. */
  | { kind: 'connectionReset'; count: number; pathPrefix?: string; method?: string; skip?: number }
  /** The CSI driver's CreateSnapshot fails with this message: status.error on the content and the VolumeSnapshot. */
  | { kind: 'snapshotError'; target: SnapshotFaultTarget; message: string }
  /** The snapshot is cut but never finishes uploading: readyToUse stays false. */
  | { kind: 'snapshotNeverReady'; target: SnapshotFaultTarget };

/** Faults injected by tests; each returns a handle that removes it. */
export class FaultRegistry {
  private readonly faults: Fault[] = [];

  inject(fault: Fault): () => void {
    this.faults.push(fault);
    return () => this.remove(fault);
  }

  /**
   * Whether a counted fault may strike once more, counting this time (the last strike removes it); a fault
   * without `count` always may. Decided when it strikes, so streams that never reach it do not use it up.
   */
  strike(fault: Fault & { count?: number }): boolean {
    if (fault.count === undefined) return true;
    if (fault.count <= 0) return false;
    if (--fault.count === 0) this.remove(fault);
    return true;
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

  forSnapshot<K extends 'snapshotError' | 'snapshotNeverReady'>(kind: K, snapshot: KubeObject): Extract<Fault, { kind: K }> | undefined {
    return this.faults.find((f): f is Extract<Fault, { kind: K }> => f.kind === kind && snapshotMatches(f.target, snapshot));
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

  /** The exec subprotocols an injected fault limits the server to; undefined when it speaks them all. */
  execProtocols(): readonly string[] | undefined {
    return this.faults.find((f): f is Extract<Fault, { kind: 'execProtocols' }> => f.kind === 'execProtocols')?.protocols;
  }

  latencyFor(path: string): number {
    return this.faults.reduce((ms, f) => (f.kind === 'latency' && (!f.pathPrefix || path.startsWith(f.pathPrefix)) ? ms + f.ms : ms), 0);
  }

  /** Consumes one response of an injected error burst, if one matches. */
  takeHttpError(method: string, path: string): Extract<Fault, { kind: 'httpError' }> | undefined {
    return this.takeBurst('httpError', method, path);
  }

  /** Consumes one dropped connection of an injected burst, if one matches. */
  takeConnectionReset(method: string, path: string): Extract<Fault, { kind: 'connectionReset' }> | undefined {
    return this.takeBurst('connectionReset', method, path);
  }

  /** Each matching burst sees the request: one still skipping counts it down; the first that is not answers it. */
  private takeBurst<K extends 'httpError' | 'connectionReset'>(kind: K, method: string, path: string): Extract<Fault, { kind: K }> | undefined {
    let fired: Extract<Fault, { kind: 'httpError' | 'connectionReset' }> | undefined;
    for (const f of [...this.faults]) {
      if (f.kind !== kind) continue;
      const burst = f as Extract<Fault, { kind: 'httpError' | 'connectionReset' }>;
      if ((burst.pathPrefix && !path.startsWith(burst.pathPrefix)) || (burst.method && burst.method !== method)) continue;
      if (burst.skip) burst.skip--;
      else fired ??= burst;
    }
    if (!fired) return undefined;
    fired.count--;
    if (fired.count <= 0) this.remove(fired);
    return fired as Extract<Fault, { kind: K }>;
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

function snapshotMatches(target: SnapshotFaultTarget, snapshot: KubeObject): boolean {
  if (target.namespace && snapshot.metadata.namespace !== target.namespace) return false;
  if (target.snapshot) {
    const name = snapshot.metadata.name ?? '';
    if (!(target.snapshot.endsWith('*') ? name.startsWith(target.snapshot.slice(0, -1)) : name === target.snapshot)) return false;
  }
  const claim = (snapshot.spec as { source?: { persistentVolumeClaimName?: string } } | undefined)?.source?.persistentVolumeClaimName;
  return !target.pvc || claim === target.pvc;
}
