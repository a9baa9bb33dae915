/**
 * Retries for Kubernetes API calls that fail for reasons that pass by themselves: the server's
 * priority-and-fairness throttle (429 with Retry-After), an overloaded or restarting API server
 * (500, 502, 503, 504) and connections a load balancer drops (ECONNRESET, "socket hang up").
 * Everything else (401, 403, 404, 409, 410, refused connections, TLS) fails at once: waiting
 * does not change the answer.
 */
import { describeKubeError, KubeErrorDescription } from './describeKubeError';

export interface KubeRetryOptions {
  /** Stops waiting and retrying; the call rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Tries in all, the first included. Default 5. */
  readonly attempts?: number;
  /** The first backoff; each next one doubles. Default 200 ms. */
  readonly baseDelayMs?: number;
  /** No backoff, and no Retry-After, waits longer than this. Default 10 s. */
  readonly maxDelayMs?: number;
  /** Told before each wait, e.g. to log "retrying in 1.2 s after 503". */
  readonly onRetry?: (notice: KubeRetryNotice) => void;
}

export interface KubeRetryNotice {
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** How many attempts may be made in all. */
  readonly attempts: number;
  readonly delayMs: number;
  /** `429`, `503`, `ECONNRESET`... */
  readonly reason: string;
  readonly error: unknown;
}

const DEFAULT_ATTEMPTS = 5;
const DEFAULT_BASE_DELAY_MS = 200;
const DEFAULT_MAX_DELAY_MS = 10_000;

const TRANSIENT_STATUSES = new Set([429, 500, 502, 503, 504]);
const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

/**
 * A transient failure that outlasted every attempt. It keeps the last failure's HTTP status or
 * network code and Status body, so describeKubeError sorts it as that failure; its message adds
 * how many attempts were made.
 */
export class KubeRetriesExhausted extends Error {
  override readonly name = 'KubeRetriesExhausted';
  readonly code: unknown;
  readonly body: unknown;

  constructor(
    readonly attempts: number,
    override readonly cause: unknown,
  ) {
    super(`gave up after ${attempts} attempts; the last failed with ${transientReason(cause) ?? 'an error'}: ${messageOf(cause)}`);
    this.code = (cause as { code?: unknown } | null)?.code;
    this.body = (cause as { body?: unknown } | null)?.body;
  }
}

/** As describeKubeError, saying how many attempts were made when a transient failure persisted. */
export function describeRetriedKubeError(error: unknown): KubeErrorDescription {
  const description = describeKubeError(error);
  if (!(error instanceof KubeRetriesExhausted)) return description;
  return { ...description, message: `${description.message} (tried ${error.attempts} times)` };
}

/**
 * Runs `call` until it succeeds, retrying transient failures with capped exponential backoff and
 * jitter, or the server's Retry-After when it sends one. `call` gets the attempt number from 1.
 * Rejects with the first permanent failure as it is, with KubeRetriesExhausted when transient
 * failures persist, or with the signal's reason once aborted (also during a wait).
 */
export async function withKubeRetry<T>(call: (attempt: number) => Promise<T>, options: KubeRetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, Math.floor(options.attempts ?? DEFAULT_ATTEMPTS));
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await call(attempt);
    } catch (error) {
      const reason = transientReason(error);
      // An aborted request fails with a reset or AbortError; the caller's reason is what counts.
      if (options.signal?.aborted) throw options.signal.reason;
      if (!reason) throw error;
      if (attempt >= attempts) throw new KubeRetriesExhausted(attempt, error);
      const delayMs = retryDelayMs(attempt, error, options);
      options.onRetry?.({ attempt, attempts, delayMs, reason, error });
      await sleep(delayMs, options.signal);
    }
  }
}

/** `429`, `503`, `ECONNRESET`... when the failure may pass by itself; undefined when it will not. */
export function transientReason(error: unknown): string | undefined {
  const status = httpStatusOf(error);
  if (status !== undefined) return TRANSIENT_STATUSES.has(status) ? String(status) : undefined;
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return code;
    if (/socket hang up/i.test(messageOf(e))) return 'socket hang up';
  }
  return undefined;
}

/**
 * The wait before attempt `failedAttempt + 1`: the server's Retry-After when given (capped), else
 * "equal jitter" backoff, half fixed and half random, so clients throttled together do not return together.
 */
export function retryDelayMs(failedAttempt: number, error: unknown, options: Pick<KubeRetryOptions, 'baseDelayMs' | 'maxDelayMs'> = {}): number {
  const max = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const retryAfter = retryAfterSeconds(error);
  if (retryAfter !== undefined) return Math.min(max, retryAfter * 1000);
  const ceiling = Math.min(max, (options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS) * 2 ** (failedAttempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** Retry-After in seconds (RFC 9110 allows an HTTP date too), or the Status body's `retryAfterSeconds`. */
function retryAfterSeconds(error: unknown): number | undefined {
  const headers = (error as { headers?: unknown } | null)?.headers;
  const header = headerValue(headers, 'retry-after');
  if (header !== undefined) {
    if (/^\d+$/.test(header.trim())) return Number(header.trim());
    const at = Date.parse(header);
    if (!Number.isNaN(at)) return Math.max(0, (at - Date.now()) / 1000);
  }
  const fromBody = statusBodyOf(error)?.details?.retryAfterSeconds;
  return typeof fromBody === 'number' && fromBody >= 0 ? fromBody : undefined;
}

/** client-node gives headers as a plain object with lower-case names; fetch gives a Headers. */
function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? String(value[0]) : String(value);
  }
  return undefined;
}

function statusBodyOf(error: unknown): { details?: { retryAfterSeconds?: unknown } } | undefined {
  const body = (error as { body?: unknown } | null)?.body;
  if (typeof body === 'object' && body !== null) return body as { details?: { retryAfterSeconds?: unknown } };
  if (typeof body !== 'string') return undefined;
  try {
    return JSON.parse(body) as { details?: { retryAfterSeconds?: unknown } };
  } catch {
    return undefined;
  }
}

function httpStatusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 100 && code < 600 ? code : undefined;
}

function messageOf(error: unknown): string {
  if (typeof error === 'string') return error;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message.split('\n')[0] : String(error);
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
