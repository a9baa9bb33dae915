import type { V1Job, V1ObjectMeta, V1OwnerReference, V1ReplicaSet } from '@kubernetes/client-node';
import type { WorkloadRef } from './volumeInventory';

/**
 * Controllers that sit between a pod and the workload a user manages: a Deployment makes
 * ReplicaSets, a CronJob makes Jobs. Only these are looked up; any other owner is the top already.
 */
export const INTERMEDIATE_OWNER_KINDS = ['ReplicaSet', 'Job'] as const;
export type IntermediateOwnerKind = (typeof INTERMEDIATE_OWNER_KINDS)[number];

/** The controller of each known ReplicaSet and Job, keyed by kind, namespace and name. */
export type OwnerIndex = ReadonlyMap<string, V1OwnerReference | undefined>;

export function indexOwners(replicaSets: readonly V1ReplicaSet[], jobs: readonly V1Job[]): OwnerIndex {
  const index = new Map<string, V1OwnerReference | undefined>();
  const add = (kind: IntermediateOwnerKind, meta: V1ObjectMeta | undefined): void => {
    if (meta?.name) index.set(ownerKey(kind, meta.namespace, meta.name), controllerOf(meta));
  };
  for (const rs of replicaSets) add('ReplicaSet', rs.metadata);
  for (const job of jobs) add('Job', job.metadata);
  return index;
}

/**
 * The workload that owns an object (a pod), climbing one level through a ReplicaSet or Job.
 * When that intermediate is unknown (not listed, or no permission), it is reported itself.
 */
export function workloadOf(meta: V1ObjectMeta | undefined, owners: OwnerIndex): WorkloadRef | undefined {
  const direct = controllerOf(meta);
  if (!direct) return undefined;
  if (!isIntermediate(direct.kind)) return { kind: direct.kind, name: direct.name };
  const above = owners.get(ownerKey(direct.kind, meta?.namespace, direct.name));
  if (!above) return { kind: direct.kind, name: direct.name };
  return { kind: above.kind, name: above.name, via: { kind: direct.kind, name: direct.name } };
}

/** Which intermediate kinds must be looked up, and in which namespaces, to resolve these objects' owners. */
export function intermediateOwnersNeeded(metas: readonly (V1ObjectMeta | undefined)[]): Map<IntermediateOwnerKind, Set<string>> {
  const needed = new Map<IntermediateOwnerKind, Set<string>>();
  for (const meta of metas) {
    const kind = controllerOf(meta)?.kind;
    if (!kind || !isIntermediate(kind) || !meta?.namespace) continue;
    if (!needed.has(kind)) needed.set(kind, new Set());
    needed.get(kind)!.add(meta.namespace);
  }
  return needed;
}

/**
 * The managing controller. Objects made by controllers mark that reference `controller: true`;
 * the first reference stands in when none does, so hand-made owner links still show something.
 */
function controllerOf(meta: V1ObjectMeta | undefined): V1OwnerReference | undefined {
  const refs = meta?.ownerReferences ?? [];
  return refs.find((r) => r.controller) ?? refs[0];
}

function isIntermediate(kind: string): kind is IntermediateOwnerKind {
  return (INTERMEDIATE_OWNER_KINDS as readonly string[]).includes(kind);
}

function ownerKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}
