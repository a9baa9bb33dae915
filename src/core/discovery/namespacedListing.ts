import type { ConfigurationOptions, V1ListMeta } from '@kubernetes/client-node';
import { DiscoveryError } from './discoveryError';
import { DiscoverySession, ListPage } from './discoverySession';

/** Per-namespace lists in flight at once when a cluster-wide list is not allowed. */
export const NAMESPACE_CONCURRENCY = 8;

type ListResult<T> = Promise<{ items: T[]; metadata?: V1ListMeta }>;

/** How to list one kind of object across all namespaces and in one. */
export interface ResourceLister<T> {
  /** In plain words, plural: `persistent volume claims`. */
  readonly noun: string;
  /** Only `metadata` is read from these objects, so the server may send just that. */
  readonly metadataOnly?: boolean;
  allNamespaces(session: DiscoverySession, page: ListPage, options: ConfigurationOptions): ListResult<T>;
  inNamespace(session: DiscoverySession, namespace: string, page: ListPage, options: ConfigurationOptions): ListResult<T>;
}

export interface NamespacedItems<T> {
  /** Only items of the namespaces asked for. */
  readonly items: T[];
  /** Namespaces where listing was forbidden, with the error saying so. */
  readonly forbidden: ReadonlyMap<string, DiscoveryError>;
}

/**
 * Lists objects in the given namespaces with as few requests as possible: one cluster-wide list
 * (paged) when more than one namespace is wanted; if that is forbidden, as it is for users whose
 * rights are granted per namespace, one list per namespace. A namespace that refuses is recorded
 * instead of failing the rest; anything else fails the whole listing.
 */
export async function listAcrossNamespaces<T extends { metadata?: { namespace?: string } }>(
  session: DiscoverySession,
  lister: ResourceLister<T>,
  namespaces: readonly string[],
): Promise<NamespacedItems<T>> {
  const wanted = new Set(namespaces);
  if (wanted.size === 0) return { items: [], forbidden: new Map() };
  if (wanted.size > 1) {
    try {
      const all = await session.listAll(`list ${lister.noun} in all namespaces`, (page, options) => lister.allNamespaces(session, page, options), lister);
      return { items: all.filter((item) => wanted.has(item.metadata?.namespace ?? '')), forbidden: new Map() };
    } catch (error) {
      if (!isForbidden(error)) throw error;
    }
  }
  const items: T[] = [];
  const forbidden = new Map<string, DiscoveryError>();
  await forEachConcurrently([...wanted].sort(), NAMESPACE_CONCURRENCY, async (namespace) => {
    try {
      items.push(...(await session.listAll(`list ${lister.noun} in namespace "${namespace}"`, (page, options) => lister.inNamespace(session, namespace, page, options), lister)));
    } catch (error) {
      if (!isForbidden(error)) throw error;
      forbidden.set(namespace, error);
    }
  });
  return { items, forbidden };
}

export function isForbidden(error: unknown): error is DiscoveryError {
  return error instanceof DiscoveryError && error.kind === 'forbidden';
}

/** Runs `work` for each item, at most `limit` at a time; after a failure nothing new starts, and it rejects with that failure. */
async function forEachConcurrently<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failure) {
      const item = items[next++];
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}
