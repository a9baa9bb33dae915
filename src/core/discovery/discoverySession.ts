import {
  AppsV1Api,
  BatchV1Api,
  ConfigurationOptions,
  CoreV1Api,
  KubeConfig,
  Observable,
  RequestContext,
  ResponseContext,
  V1ListMeta,
} from '@kubernetes/client-node';
import { setMaxListeners } from 'node:events';
import { Agent } from 'node:https';
import { withKubeRetry } from '../kube/retryTransient';
import { DiscoveryError } from './discoveryError';
import type { DiscoveryDeadlineOptions } from './volumeInventory';

/** Objects per list page: the server's own default for kubectl, small enough to stay fast. */
export const LIST_PAGE_SIZE = 500;

/**
 * Asks for metadata only (PartialObjectMetadataList, served by every API server since 1.15): owner
 * lookups need names and owner references, not pod templates. The plain type follows as a fallback,
 * so a server without it answers with full objects rather than 406.
 */
export const METADATA_ONLY_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1, application/json';

export interface ListPage {
  limit: number;
  _continue?: string;
}

export type ListCall<T> = (page: ListPage, options: ConfigurationOptions) => Promise<{ items: T[]; metadata?: V1ListMeta }>;

export interface ListOptions {
  /** Items carry only `metadata` (see METADATA_ONLY_ACCEPT). */
  readonly metadataOnly?: boolean;
}

/** One page of a list and where the next one starts. */
export interface ListedPage<T> {
  readonly items: T[];
  /** Absent on the last page. */
  readonly continueToken?: string;
  /** The server's estimate of the items after this page, when it gives one. */
  readonly remainingItemCount?: number;
}

/**
 * One discovery call: the API clients, and one deadline over all of its requests. Every request
 * runs as a named step, so a failure or the deadline says what discovery was doing at the time.
 */
export class DiscoverySession {
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly batch: BatchV1Api;
  private readonly deadline: AbortSignal;
  private readonly signal: AbortSignal;
  private readonly requestOptions: ConfigurationOptions;
  private readonly metadataRequestOptions: ConfigurationOptions;
  private keepAlive: Agent | undefined;

  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly options: DiscoveryDeadlineOptions,
  ) {
    if (!kubeConfig.getCurrentCluster()) {
      const context = kubeConfig.getCurrentContext();
      throw new DiscoveryError('find the cluster to ask', undefined, {
        kind: 'other',
        message: context ? `the kubeconfig context "${context}" names no known cluster; fix the context or pick another` : 'the kubeconfig has no current context; pick one',
      });
    }
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.apps = kubeConfig.makeApiClient(AppsV1Api);
    this.batch = kubeConfig.makeApiClient(BatchV1Api);
    this.deadline = AbortSignal.timeout(Math.max(0, options.timeoutSeconds) * 1000);
    this.signal = options.signal ? AbortSignal.any([this.deadline, options.signal]) : this.deadline;
    // Up to NAMESPACE_CONCURRENCY requests, each with a few abort listeners, share this signal.
    setMaxListeners(100, this.signal);
    const reuse = (agent: unknown): unknown => this.reusedAgent(agent);
    this.requestOptions = abortableRequests(this.signal, reuse);
    this.metadataRequestOptions = abortableRequests(this.signal, reuse, METADATA_ONLY_ACCEPT);
  }

  /** Lets go of the connections kept open for this discovery. */
  close(): void {
    this.keepAlive?.destroy();
    this.keepAlive = undefined;
  }

  /**
   * client-node makes a new https.Agent for every request, so each one pays a TLS handshake; with
   * hundreds of per-namespace lists that dominated discovery. Requests of one discovery share one
   * keep-alive agent with the same TLS options instead. Proxy agents are left alone.
   */
  private reusedAgent(agent: unknown): unknown {
    if (!(agent instanceof Agent) || agent.constructor !== Agent) return agent;
    if (!this.keepAlive || !sameTls(this.keepAlive.options, agent.options)) {
      this.keepAlive?.destroy();
      this.keepAlive = new Agent({ ...agent.options, keepAlive: true });
    }
    return this.keepAlive;
  }

  /**
   * Runs one request (or a few) as the step `what`; any failure becomes a DiscoveryError naming it.
   * Requests made through `retried` inside it survive transient API errors.
   */
  async step<T>(what: string, call: (options: ConfigurationOptions) => Promise<T>, listOptions: ListOptions = {}): Promise<T> {
    try {
      this.signal.throwIfAborted();
      return await untilAborted(call(listOptions.metadataOnly ? this.metadataRequestOptions : this.requestOptions), this.signal);
    } catch (error) {
      // A cancelled call is not a failure; the caller gets its own reason back, as from fetch().
      if (this.options.signal?.aborted) throw this.options.signal.reason;
      if (this.deadline.aborted) throw DiscoveryError.timedOut(what, this.options.timeoutSeconds, error);
      throw error instanceof DiscoveryError ? error : new DiscoveryError(what, error);
    }
  }

  /** One request, retried while it fails transiently (429, 5xx, reset connections) within the deadline. */
  retried<T>(request: () => Promise<T>): Promise<T> {
    return withKubeRetry(() => request(), { signal: this.signal, onRetry: this.options.onRetry });
  }

  /** Every item of a list, following `continue` tokens page by page; each page is retried on its own. */
  listAll<T>(what: string, list: ListCall<T>, listOptions: ListOptions = {}): Promise<T[]> {
    return this.step(
      what,
      async (options) => {
        const items: T[] = [];
        let token: string | undefined;
        do {
          const page = await this.retried(() => list({ limit: LIST_PAGE_SIZE, ...(token ? { _continue: token } : {}) }, options));
          items.push(...page.items);
          token = page.metadata?._continue || undefined;
        } while (token);
        return items;
      },
      listOptions,
    );
  }

  /** One page of a list, for a caller that pages on demand (a tree showing "more"). */
  listPage<T>(what: string, list: ListCall<T>, page: { limit: number; continueToken?: string }, listOptions: ListOptions = {}): Promise<ListedPage<T>> {
    return this.step(
      what,
      async (options) => {
        const result = await this.retried(() => list({ limit: page.limit, ...(page.continueToken ? { _continue: page.continueToken } : {}) }, options));
        const continueToken = result.metadata?._continue || undefined;
        const remainingItemCount = result.metadata?.remainingItemCount;
        return { items: result.items, ...(continueToken ? { continueToken } : {}), ...(continueToken && remainingItemCount !== undefined ? { remainingItemCount } : {}) };
      },
      listOptions,
    );
  }
}

/**
 * Per-request options that hand the signal to the HTTP request, so an abandoned request frees its
 * socket. client-node 1.4 has no `signal` parameter; its RequestContext carries one to node-fetch.
 * These per-call options take the Observable form of middleware (see client-node's setHeaderOptions).
 * They run after the generated code set its own Accept header, so `accept` replaces it.
 */
function abortableRequests(signal: AbortSignal, agentFor: (agent: unknown) => unknown, accept?: string): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (context: RequestContext) => {
          context.setSignal(signal);
          context.setAgent(agentFor(context.getAgent()) as Agent);
          if (accept) context.setHeaderParam('Accept', accept);
          return new Observable(Promise.resolve(context));
        },
        post: (context: ResponseContext) => new Observable(Promise.resolve(context)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

/**
 * Settles with the call or the abort, whichever comes first. The middleware only reaches the HTTP
 * request; credential plugins (exec auth, token refresh) run before it and must not outlast the deadline.
 */
function untilAborted<T>(call: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([call, aborted]).finally(() => signal.removeEventListener('abort', onAbort!));
}

const TLS_OPTIONS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'servername', 'rejectUnauthorized'] as const;

/** Same trust and client identity: a connection made with one set of options serves the other. */
function sameTls(a: Agent['options'], b: Agent['options']): boolean {
  return TLS_OPTIONS.every((k) => String(a[k as keyof typeof a] ?? '') === String(b[k as keyof typeof b] ?? ''));
}
