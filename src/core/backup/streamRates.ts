import type { TransferPiece } from './streamPlan';

/** One exec stream of a backup in parts, as progress shows it. */
export interface StreamProgress {
  /** The part it sends (1-based), absent once it has nothing left. */
  readonly part?: number;
  readonly bytesPerSecond: number;
}

export interface StreamsProgress {
  /** Bytes received so far, of the parts joined and those in flight. */
  readonly bytes: number;
  readonly bytesPerSecond: number;
  readonly streams: StreamProgress[];
  readonly parts: { readonly done: number; readonly total: number };
  /** Estimated from the rate so far and what the parts left hold; absent until there is a rate. */
  readonly secondsLeft?: number;
  /** What is being sent again and why, while it is. */
  readonly resuming?: string;
}

/** Rates over the last few seconds, so a stream that stalls shows it soon. */
const WINDOW_MS = 3000;

interface StreamState {
  piece?: TransferPiece;
  inFlight: number;
  samples: { at: number; total: number }[];
  total: number;
  resuming?: string;
}

/** Keeps each stream's bytes and turns them into rates, a total and the time left. */
export class StreamRates {
  private readonly streams: StreamState[];
  private readonly startedAt = performance.now();
  private doneBytes = 0;
  private doneWork = 0;
  private doneParts = 0;

  constructor(
    count: number,
    private readonly work: number,
    private readonly partCount = 0,
  ) {
    this.streams = Array.from({ length: count }, () => ({ inFlight: 0, samples: [], total: 0 }));
  }

  start(stream: number, piece: TransferPiece): void {
    Object.assign(this.streams[stream]!, { piece, inFlight: 0, resuming: undefined });
  }

  bytes(stream: number, bytes: number): void {
    const s = this.streams[stream]!;
    // A broken attempt's bytes stay counted in the rate (they crossed the link), not in the total.
    if (bytes > s.inFlight) s.total += bytes - s.inFlight;
    s.inFlight = bytes;
    if (bytes > 0) s.resuming = undefined;
  }

  resuming(stream: number, what: string): void {
    this.streams[stream]!.resuming = what;
  }

  done(stream: number, bytes: number): void {
    const s = this.streams[stream]!;
    this.doneBytes += bytes;
    this.doneWork += s.piece?.bytes ?? 0;
    this.doneParts++;
    Object.assign(s, { piece: undefined, inFlight: 0 });
  }

  progress(): StreamsProgress {
    const now = performance.now();
    const streams = this.streams.map((s) => {
      s.samples.push({ at: now, total: s.total });
      while (s.samples.length > 2 && now - s.samples[1]!.at >= WINDOW_MS) s.samples.shift();
      const first = s.samples[0]!;
      const seconds = (now - first.at) / 1000;
      return { ...(s.piece ? { part: s.piece.index + 1 } : {}), bytesPerSecond: seconds > 0 ? (s.total - first.total) / seconds : 0 };
    });
    const bytes = this.doneBytes + this.streams.reduce((sum, s) => sum + s.inFlight, 0);
    const bytesPerSecond = streams.reduce((sum, s) => sum + s.bytesPerSecond, 0);
    // What arrived per byte of tar so far (compression) turns the work left into bytes left.
    const ratio = this.doneWork > 0 ? this.doneBytes / this.doneWork : 1;
    const workLeft = Math.max(0, this.work - this.doneWork - this.streams.reduce((sum, s) => sum + Math.min(s.piece?.bytes ?? 0, s.inFlight / ratio), 0));
    const resuming = this.streams.map((s) => s.resuming).filter(Boolean).join('; ');
    return {
      bytes,
      bytesPerSecond: bytesPerSecond || (bytes * 1000) / Math.max(1, now - this.startedAt),
      streams,
      parts: { done: this.doneParts, total: this.partCount },
      ...(bytesPerSecond > 0 ? { secondsLeft: Math.round((workLeft * ratio) / bytesPerSecond) } : {}),
      ...(resuming ? { resuming } : {}),
    };
  }
}
