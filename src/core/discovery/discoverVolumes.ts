import type { KubeConfig } from '@kubernetes/client-node';
import { describeKubeError } from '../kube/describeKubeError';
import { collectVolumePage, collectVolumes } from './collectVolumes';
import { DiscoveryError } from './discoveryError';
import { DiscoverySession } from './discoverySession';
import { isForbidden } from './namespacedListing';
import { selectNamespaces } from './namespaceSelection';
import type { Inventory, NamespaceListing, NamespacePageOptions, NamespaceScanOptions, NamespaceVolumes } from './volumeInventory';

/**
 * The whole volume inventory of the kubeconfig's current context: namespaces (filtered and
 * capped), their claims, the pods mounting them and the workloads owning those pods. One deadline
 * covers every request; a few lists per resource type suffice, whatever the namespace count.
 */
export async function discoverVolumes(kubeConfig: KubeConfig, options: NamespaceScanOptions): Promise<Inventory> {
  const session = new DiscoverySession(kubeConfig, options);
  try {
    const listing = await scanNamespaces(session, options);
    const found = await collectVolumes(session, listing.namespaces);
    return {
      namespaces: listing.namespaces,
      namespacesTruncated: listing.namespacesTruncated,
      volumes: found.volumes,
      warnings: [...listing.warnings, ...found.warnings],
    };
  } finally {
    session.close();
  }
}

/** The namespace level of a lazily expanded tree, without looking inside any namespace. */
export async function listNamespaces(kubeConfig: KubeConfig, options: NamespaceScanOptions): Promise<NamespaceListing> {
  const session = new DiscoverySession(kubeConfig, options);
  try {
    return await scanNamespaces(session, options);
  } finally {
    session.close();
  }
}

/**
 * One namespace's claims with their consumers, for a tree node being expanded: all of them, or
 * with `limit` one page at a time (pass the result's `continueToken` back for the next page).
 */
export async function listVolumesInNamespace(kubeConfig: KubeConfig, namespace: string, options: NamespacePageOptions): Promise<NamespaceVolumes> {
  const session = new DiscoverySession(kubeConfig, options);
  const paged = options.limit !== undefined && options.limit > 0;
  try {
    const found = paged
      ? await collectVolumePage(session, { namespace, limit: Math.floor(options.limit!), continueToken: options.continueToken })
      : await collectVolumes(session, [namespace]);
    return { namespace, ...found };
  } finally {
    session.close();
  }
}

/**
 * Namespaces to scan: the caller's list when given, else the cluster's. A user allowed only
 * inside one namespace may not list namespaces; then the kubeconfig context's namespace is used.
 */
async function scanNamespaces(session: DiscoverySession, options: NamespaceScanOptions): Promise<NamespaceListing> {
  const select = (names: readonly string[], warnings: string[]): NamespaceListing => {
    const { namespaces, truncated } = selectNamespaces(names, options.namespaceFilter, options.maxNamespaceScan);
    return { namespaces, namespacesTruncated: truncated, warnings };
  };
  if (options.namespaces && options.namespaces.length > 0) return select(options.namespaces, []);
  try {
    // Only names are read, so the server may leave out each namespace's spec and status.
    const all = await session.listAll('list namespaces', (page, requestOptions) => session.core.listNamespace(page, requestOptions), { metadataOnly: true });
    return select(all.map((n) => n.metadata?.name ?? '').filter((n) => n.length > 0), []);
  } catch (error) {
    if (!isForbidden(error)) throw error;
    const kubeConfig = session.kubeConfig;
    const own = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace;
    const cause = describeKubeError(error.cause).message;
    if (!own) {
      throw new DiscoveryError('list namespaces', error.cause, {
        kind: 'forbidden',
        status: error.status,
        message: `${cause}. Set a namespace on the kubeconfig context to scan just that namespace`,
      });
    }
    return select([own], [`Cannot list namespaces (${cause}); scanning only the context's namespace "${own}".`]);
  }
}
