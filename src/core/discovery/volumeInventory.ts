import type { V1Toleration } from '@kubernetes/client-node';
import type { KubeRetryNotice } from '../kube/retryTransient';

/**
 * The workload a user recognises as the owner of a pod: the top of the controller chain
 * (a Deployment rather than its ReplicaSet, a CronJob rather than its Job).
 */
export interface WorkloadRef {
  readonly kind: 'Deployment' | 'ReplicaSet' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'CronJob' | (string & {});
  readonly name: string;
  /** The controller in between, e.g. the ReplicaSet under a Deployment, when there is one. */
  readonly via?: { readonly kind: string; readonly name: string };
}

/** A pod that mounts a claim, with what a helper pod must copy to be scheduled beside it and read its files. */
export interface VolumeConsumer {
  readonly pod: string;
  /** The node the pod runs on; a ReadWriteOnce volume can only be mounted there meanwhile. */
  readonly node?: string;
  readonly phase?: string;
  /** True when every mount of the claim in this pod is read-only. */
  readonly readOnly: boolean;
  readonly tolerations: V1Toleration[];
  /** Effective for the container that mounts the claim (container settings win over the pod's). */
  readonly runAsUser?: number;
  readonly runAsGroup?: number;
  readonly fsGroup?: number;
  readonly owner?: WorkloadRef;
}

export interface VolumeInfo {
  /** The kubeconfig context the volume was found through. */
  readonly context?: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  /** Pending, Bound or Lost. */
  readonly phase: string;
  /** What the bound volume provides (`status.capacity.storage`). */
  readonly capacity?: string;
  /** What the claim asked for (`spec.resources.requests.storage`). */
  readonly requested?: string;
  readonly storageClass?: string;
  readonly accessModes: string[];
  /** The PersistentVolume the claim is bound to. */
  readonly volumeName?: string;
  /** `Block` volumes have no file system to archive. */
  readonly volumeMode?: 'Filesystem' | 'Block' | (string & {});
  readonly consumers: VolumeConsumer[];
  /** Set when pods could not be listed (no permission), so an empty `consumers` means "unknown", not "unused". */
  readonly consumersUnknown?: boolean;
}

export interface Inventory {
  /** The namespaces scanned, after the filter and the cap, sorted by name. */
  readonly namespaces: string[];
  /** True when the cap (`maxNamespaceScan`) left namespaces out. */
  readonly namespacesTruncated: boolean;
  readonly volumes: VolumeInfo[];
  /** Problems that left part of the inventory out without failing all of it, in plain words. */
  readonly warnings: string[];
}

/** The namespace level of a lazily expanded tree. */
export interface NamespaceListing {
  readonly namespaces: string[];
  readonly namespacesTruncated: boolean;
  readonly warnings: string[];
}

/** The claims of one namespace (or one page of them), for a tree node expanded on demand. */
export interface NamespaceVolumes {
  readonly namespace: string;
  readonly volumes: VolumeInfo[];
  readonly warnings: string[];
  /** Set when more claims follow: pass it back as `continueToken` for the next page. */
  readonly continueToken?: string;
  /** The server's estimate of the claims after this page, when it gives one. */
  readonly remainingItemCount?: number;
}

export interface DiscoveryDeadlineOptions {
  /** For the whole call, not per request. */
  readonly timeoutSeconds: number;
  /** Cancels the call, e.g. from a progress notification's cancel button. */
  readonly signal?: AbortSignal;
  /** Told when a request failed transiently and is about to be tried again, e.g. to log it. */
  readonly onRetry?: (notice: KubeRetryNotice) => void;
}

/** One page of a namespace's claims; without `limit`, all of them. */
export interface NamespacePageOptions extends DiscoveryDeadlineOptions {
  /** At most this many claims per call; the result's `continueToken` fetches the next page. */
  readonly limit?: number;
  /** From the previous page's result. An expired token (after some minutes) fails with status 410: start again without one. */
  readonly continueToken?: string;
}

export interface NamespaceScanOptions extends DiscoveryDeadlineOptions {
  /** Comma-separated names or globs with `*`, e.g. `shop,team-*`; empty means all. */
  readonly namespaceFilter?: string;
  /** At most this many namespaces (by name) are scanned. */
  readonly maxNamespaceScan: number;
  /** Scan only these namespaces instead of listing them, e.g. when the user may not list namespaces. */
  readonly namespaces?: string[];
}
