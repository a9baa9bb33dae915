import type { V1Job, V1PersistentVolumeClaim, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { describeKubeError } from '../kube/describeKubeError';
import { assembleVolumes, podsMountingClaims } from './claimConsumers';
import { DiscoveryError } from './discoveryError';
import { DiscoverySession } from './discoverySession';
import { isForbidden, listAcrossNamespaces, NamespacedItems, ResourceLister } from './namespacedListing';
import type { VolumeInfo } from './volumeInventory';
import { intermediateOwnersNeeded } from './workloadOwners';

const claims: ResourceLister<V1PersistentVolumeClaim> = {
  noun: 'persistent volume claims',
  allNamespaces: (s, page, options) => s.core.listPersistentVolumeClaimForAllNamespaces(page, options),
  inNamespace: (s, namespace, page, options) => s.core.listNamespacedPersistentVolumeClaim({ namespace, ...page }, options),
};

const pods: ResourceLister<V1Pod> = {
  noun: 'pods',
  allNamespaces: (s, page, options) => s.core.listPodForAllNamespaces(page, options),
  inNamespace: (s, namespace, page, options) => s.core.listNamespacedPod({ namespace, ...page }, options),
};

// Owner lookups read names and owner references only; a full ReplicaSet carries its pod template.
const replicaSets: ResourceLister<V1ReplicaSet> = {
  noun: 'replica sets',
  metadataOnly: true,
  allNamespaces: (s, page, options) => s.apps.listReplicaSetForAllNamespaces(page, options),
  inNamespace: (s, namespace, page, options) => s.apps.listNamespacedReplicaSet({ namespace, ...page }, options),
};

const jobs: ResourceLister<V1Job> = {
  noun: 'jobs',
  metadataOnly: true,
  allNamespaces: (s, page, options) => s.batch.listJobForAllNamespaces(page, options),
  inNamespace: (s, namespace, page, options) => s.batch.listNamespacedJob({ namespace, ...page }, options),
};

export interface CollectedVolumes {
  readonly volumes: VolumeInfo[];
  readonly warnings: string[];
  /** When claims were paged and more follow. */
  readonly continueToken?: string;
  readonly remainingItemCount?: number;
}

/** One page of one namespace's claims. */
export interface ClaimPage {
  readonly namespace: string;
  readonly limit: number;
  readonly continueToken?: string;
}

/**
 * The claims of these namespaces with the pods that mount them and their workloads. Each step
 * narrows the next: pods only where there are claims, ReplicaSets and Jobs only where a mounting
 * pod is owned by one. A namespace that refuses a list becomes a warning; if every namespace
 * refuses the claims, there is nothing to show and discovery fails.
 */
export async function collectVolumes(session: DiscoverySession, namespaces: readonly string[]): Promise<CollectedVolumes> {
  return consumersOfClaims(session, namespaces, await listAcrossNamespaces(session, claims, namespaces));
}

/**
 * One page of a namespace's claims with their consumers: a namespace with thousands of claims
 * shows its first ones without waiting for all. The namespace's pods are listed whole for each
 * page, since any of them may mount a claim of the page.
 */
export async function collectVolumePage(session: DiscoverySession, page: ClaimPage): Promise<CollectedVolumes> {
  const { namespace } = page;
  let listed;
  try {
    listed = await session.listPage(`list persistent volume claims in namespace "${namespace}"`, (p, options) => claims.inNamespace(session, namespace, p, options), page);
  } catch (error) {
    if (!isForbidden(error)) throw error;
    return consumersOfClaims(session, [namespace], { items: [], forbidden: new Map([[namespace, error]]) });
  }
  const found = await consumersOfClaims(session, [namespace], { items: listed.items, forbidden: new Map() });
  return { ...found, ...(listed.continueToken ? { continueToken: listed.continueToken } : {}), ...(listed.remainingItemCount !== undefined ? { remainingItemCount: listed.remainingItemCount } : {}) };
}

async function consumersOfClaims(session: DiscoverySession, namespaces: readonly string[], claimList: NamespacedItems<V1PersistentVolumeClaim>): Promise<CollectedVolumes> {
  const warnings: string[] = [];
  if (claimList.forbidden.size > 0 && claimList.forbidden.size === new Set(namespaces).size) {
    throw everyNamespaceRefused(claims.noun, claimList.forbidden);
  }
  for (const [namespace, error] of sorted(claimList.forbidden)) {
    warnings.push(`Namespace "${namespace}" was skipped: cannot list its persistent volume claims (${causeOf(error)}).`);
  }
  if (claimList.items.length === 0) return { volumes: [], warnings };

  const claimNamespaces = [...new Set(claimList.items.map((c) => c.metadata?.namespace ?? ''))];
  const podList = await listAcrossNamespaces(session, pods, claimNamespaces);
  for (const [namespace, error] of sorted(podList.forbidden)) {
    warnings.push(`Who uses the volumes in namespace "${namespace}" is unknown: cannot list pods there (${causeOf(error)}).`);
  }

  const mounting = podsMountingClaims(podList.items, claimList.items);
  const needed = intermediateOwnersNeeded(mounting.map((p) => p.metadata));
  const [replicaSetList, jobList] = await Promise.all([
    listAcrossNamespaces(session, replicaSets, [...(needed.get('ReplicaSet') ?? [])]),
    listAcrossNamespaces(session, jobs, [...(needed.get('Job') ?? [])]),
  ]);
  for (const [namespace, error] of sorted(replicaSetList.forbidden)) {
    warnings.push(`Pods in namespace "${namespace}" show their ReplicaSet, not its Deployment: cannot list replica sets there (${causeOf(error)}).`);
  }
  for (const [namespace, error] of sorted(jobList.forbidden)) {
    warnings.push(`Pods in namespace "${namespace}" show their Job, not its CronJob: cannot list jobs there (${causeOf(error)}).`);
  }

  const volumes = assembleVolumes({
    claims: claimList.items,
    pods: mounting,
    replicaSets: replicaSetList.items,
    jobs: jobList.items,
    podsUnknownIn: new Set(podList.forbidden.keys()),
    context: session.kubeConfig.getCurrentContext() || undefined,
  });
  return { volumes, warnings };
}

function everyNamespaceRefused(noun: string, forbidden: ReadonlyMap<string, DiscoveryError>): DiscoveryError {
  const names = [...forbidden.keys()].sort();
  return new DiscoveryError(`list ${noun} in ${namespacePhrase(names)}`, forbidden.get(names[0])!.cause);
}

/** `namespace "a"`, `namespaces "a" and "b"`, `namespaces "a", "b", "c" and 4 more`. */
export function namespacePhrase(names: readonly string[]): string {
  const quoted = names.map((n) => `"${n}"`);
  if (quoted.length === 1) return `namespace ${quoted[0]}`;
  if (quoted.length <= 3) return `namespaces ${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]}`;
  return `namespaces ${quoted.slice(0, 3).join(', ')} and ${quoted.length - 3} more`;
}

function causeOf(error: DiscoveryError): string {
  return describeKubeError(error.cause).message;
}

function sorted<V>(map: ReadonlyMap<string, V>): [string, V][] {
  return [...map].sort(([a], [b]) => a.localeCompare(b));
}
