import { performance } from 'node:perf_hooks';

/** How fast exec streams may carry data, as a slow link to the cluster (a developer's VPN) holds them. */
export interface ExecBandwidthLimits {
  /** Bytes per second each exec stream may carry each way (output to the client, stdin from it); absent: no limit. */
  perStreamBytesPerSecond?: number;
  /** Bytes per second all exec streams together may carry each way; absent: no limit. */
  totalBytesPerSecond?: number;
}

/** Something that paces one direction of a stream: how long to wait after passing `bytes` on. */
export interface StreamThrottle {
  take(bytes: number): number;
}

/** The throttles of one exec stream, one per direction, since a link carries each way on its own. */
export interface ExecStreamBandwidth {
  /** stdout and stderr frames to the client. */
  output: StreamThrottle;
  /** stdin frames from the client. */
  input: StreamThrottle;
}

/** A small burst, but at least 20 ms of data so that timer granularity does not lower high rates. */
const MIN_BURST_BYTES = 64 * 1024;
const BURST_SECONDS = 0.02;

/**
 * A token bucket that may go into debt: bytes already read are always passed on (nothing is dropped or
 * held back), and the sender waits until the debt is paid before reading more.
 */
export class TokenBucket implements StreamThrottle {
  private readonly burst: number;
  private tokens: number;
  private updatedAt = performance.now();

  constructor(readonly bytesPerSecond: number) {
    checkRate(bytesPerSecond, 'an exec bandwidth');
    this.burst = Math.max(MIN_BURST_BYTES, bytesPerSecond * BURST_SECONDS);
    this.tokens = this.burst;
  }

  /** Spends `bytes`; returns the milliseconds to wait before the next bytes may go, 0 when none. */
  take(bytes: number): number {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) * this.bytesPerSecond) / 1000);
    this.updatedAt = now;
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.bytesPerSecond;
  }
}

/** Each stream waits for the slowest of the buckets it crosses (its own, its pod's fault, the shared total). */
class BucketChain implements StreamThrottle {
  constructor(private readonly buckets: readonly TokenBucket[]) {}

  take(bytes: number): number {
    return this.buckets.reduce((wait, bucket) => Math.max(wait, bucket.take(bytes)), 0);
  }
}

/** The sandbox's exec bandwidth: a limit per stream and a total shared by all streams, each way. */
export class ExecBandwidth {
  private current: ExecBandwidthLimits = {};
  private totalOutput?: TokenBucket;
  private totalInput?: TokenBucket;

  constructor(limits: ExecBandwidthLimits = {}) {
    this.set(limits);
  }

  get limits(): ExecBandwidthLimits {
    return { ...this.current };
  }

  /** Takes effect for exec streams opened from now on. */
  set(limits: ExecBandwidthLimits): void {
    const { perStreamBytesPerSecond: perStream, totalBytesPerSecond: total } = limits;
    if (perStream !== undefined) checkRate(perStream, 'the per-stream exec bandwidth');
    if (total !== undefined) checkRate(total, 'the total exec bandwidth');
    this.current = { perStreamBytesPerSecond: perStream, totalBytesPerSecond: total };
    this.totalOutput = total === undefined ? undefined : new TokenBucket(total);
    this.totalInput = total === undefined ? undefined : new TokenBucket(total);
  }

  /**
   * The throttles for a new exec stream; `podBytesPerSecond` is an `execBandwidth` fault on its pod.
   * Undefined when nothing limits it, so that an unlimited stream runs exactly as before.
   */
  openStream(podBytesPerSecond?: number): ExecStreamBandwidth | undefined {
    const perStream = [this.current.perStreamBytesPerSecond, podBytesPerSecond].filter((rate) => rate !== undefined);
    const direction = (total: TokenBucket | undefined): BucketChain =>
      new BucketChain([...perStream.map((rate) => new TokenBucket(rate)), ...(total ? [total] : [])]);
    if (!perStream.length && !this.totalOutput) return undefined;
    return { output: direction(this.totalOutput), input: direction(this.totalInput) };
  }
}

function checkRate(bytesPerSecond: number, what: string): void {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0) {
    throw new RangeError(`${what} must be a number of bytes per second above 0, got ${bytesPerSecond}`);
  }
}

/**
 * Passes one direction's frames on in order, each once the link has carried it and everything before it,
 * as a slow link delivers: the last byte, and the status behind it, arrive no sooner than the rate allows.
 * `onHeld` pauses the source while frames wait, so the command itself slows down.
 */
export class LinkPacer {
  private readonly waiting: Array<() => void> = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly throttle: StreamThrottle | undefined,
    private readonly onHeld: () => void,
  ) {}

  /** Whether frames are waiting for the link. */
  get held(): boolean {
    return this.timer !== undefined;
  }

  /** Delivers a frame of `bytes` (0 for a status or close) now, or once the link has carried it. */
  pass(bytes: number, deliver: () => void): void {
    const waitMs = bytes > 0 ? (this.throttle?.take(bytes) ?? 0) : 0;
    if (!this.held && waitMs <= 0) {
      deliver();
      return;
    }
    this.waiting.push(deliver);
    if (waitMs <= 0) return;
    // The bucket's debt covers everything taken so far, so one timer for the latest frame releases them all.
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.release(), waitMs);
    this.onHeld();
  }

  /** Delivers everything waiting at once (a cut: what was in flight goes out before the connection drops). */
  release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const deliver of this.waiting.splice(0)) deliver();
    this.onHeld();
  }

  /** Forgets what is waiting (nobody will read it). */
  drop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.waiting.length = 0;
    this.onHeld();
  }
}
