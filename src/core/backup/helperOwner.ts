import type { V1Pod } from '@kubernetes/client-node';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** Who keeps a helper pod alive: a VS Code window or an `nkvm` process. */
export interface HelperOwner {
  readonly kind: 'vscode' | 'cli';
  readonly host: string;
  readonly pid: number;
  /** Random per window or process: host and pid alone repeat across machines and restarts. */
  readonly id: string;
}

export const LEASE_ANNOTATIONS = {
  ownerKind: 'nkvm.dev/owner-kind',
  ownerHost: 'nkvm.dev/owner-host',
  ownerPid: 'nkvm.dev/owner-pid',
  ownerId: 'nkvm.dev/owner-id',
  leaseSeconds: 'nkvm.dev/lease-seconds',
  renewedAt: 'nkvm.dev/renewed-at',
} as const;

/** The lease a helper carries, as read back from its annotations. */
export interface HelperLeaseRecord {
  owner: HelperOwner;
  leaseSeconds: number;
  /** Milliseconds since the epoch, by the owner's clock. */
  renewedAt: number;
}

export function createHelperOwner(kind: HelperOwner['kind']): HelperOwner {
  return Object.freeze({ kind, host: hostname(), pid: process.pid, id: randomUUID() });
}

let processOwner: HelperOwner | undefined;

/** The owner for callers that name none: this process, as a command-line one. */
export function defaultHelperOwner(): HelperOwner {
  processOwner ??= createHelperOwner('cli');
  return processOwner;
}

export function leaseAnnotations(owner: HelperOwner, leaseSeconds: number, now = Date.now()): Record<string, string> {
  return {
    [LEASE_ANNOTATIONS.ownerKind]: owner.kind,
    [LEASE_ANNOTATIONS.ownerHost]: owner.host,
    [LEASE_ANNOTATIONS.ownerPid]: String(owner.pid),
    [LEASE_ANNOTATIONS.ownerId]: owner.id,
    [LEASE_ANNOTATIONS.leaseSeconds]: String(leaseSeconds),
    [LEASE_ANNOTATIONS.renewedAt]: renewedAtText(now),
  };
}

/** RFC 3339 with seconds, as Kubernetes writes its own timestamps. */
export function renewedAtText(now: number): string {
  return new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** The pod's lease, or undefined when it has none (made before leases) or it is unreadable. */
export function readLease(pod: V1Pod): HelperLeaseRecord | undefined {
  const a = pod.metadata?.annotations ?? {};
  const kind = a[LEASE_ANNOTATIONS.ownerKind];
  const leaseSeconds = Number(a[LEASE_ANNOTATIONS.leaseSeconds]);
  const renewedAt = Date.parse(a[LEASE_ANNOTATIONS.renewedAt] ?? '');
  if ((kind !== 'vscode' && kind !== 'cli') || !Number.isFinite(leaseSeconds) || leaseSeconds <= 0 || Number.isNaN(renewedAt)) return undefined;
  const owner = { kind, host: a[LEASE_ANNOTATIONS.ownerHost] ?? '?', pid: Number(a[LEASE_ANNOTATIONS.ownerPid]) || 0, id: a[LEASE_ANNOTATIONS.ownerId] ?? '' } as const;
  return { owner, leaseSeconds, renewedAt };
}

/** `the nkvm command (pid 4711 on build-7)` or `a VS Code window (pid 12 on laptop)`. */
export function describeOwner(owner: HelperOwner): string {
  return `${owner.kind === 'cli' ? 'the nkvm command' : 'a VS Code window'} (pid ${owner.pid} on ${owner.host})`;
}
