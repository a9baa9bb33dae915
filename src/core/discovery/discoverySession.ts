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
import { DiscoveryError } from './discoveryError';
import type { DiscoveryDeadlineOptions } from './volumeInventory';

/** Objects per list page: the server's own default for kubectl, small enough to stay fast. */
export const LIST_PAGE_SIZE = 500;

export interface ListPage {
  limit: number;
  _continue?: string;
}

export type ListCall<T> = (page: ListPage, options: ConfigurationOptions) => Promise<{ items: T[]; metadata?: V1ListMeta }>;

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
    this.requestOptions = abortableRequests(this.signal);
  }

  /** Runs one request (or a few) as the step `what`; any failure becomes a DiscoveryError naming it. */
  async step<T>(what: string, call: (options: ConfigurationOptions) => Promise<T>): Promise<T> {
    try {
      this.signal.throwIfAborted();
      return await untilAborted(call(this.requestOptions), this.signal);
    } catch (error) {
      // A cancelled call is not a failure; the caller gets its own reason back, as from fetch().
      if (this.options.signal?.aborted) throw this.options.signal.reason;
      if (this.deadline.aborted) throw DiscoveryError.timedOut(what, this.options.timeoutSeconds, error);
      throw error instanceof DiscoveryError ? error : new DiscoveryError(what, error);
    }
  }

  /** Every item of a list, following `continue` tokens page by page. */
  listAll<T>(what: string, list: ListCall<T>): Promise<T[]> {
    return this.step(what, async (options) => {
      const items: T[] = [];
      let token: string | undefined;
      do {
        const page = await list({ limit: LIST_PAGE_SIZE, ...(token ? { _continue: token } : {}) }, options);
        items.push(...page.items);
        token = page.metadata?._continue || undefined;
      } while (token);
      return items;
    });
  }
}

/**
 * Per-request options that hand the signal to the HTTP request, so an abandoned request frees its
 * socket. client-node 1.4 has no `signal` parameter; its RequestContext carries one to node-fetch.
 * These per-call options take the Observable form of middleware (see client-node's setHeaderOptions).
 */
function abortableRequests(signal: AbortSignal): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (context: RequestContext) => {
          context.setSignal(signal);
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
