/** Levels the chooser tries: 0 stores blocks (no CPU spent), 1 is gzip's fastest compression. */
const LEVELS = [0, 1] as const;
export type UploadLevel = (typeof LEVELS)[number];

export interface UploadLevelOptions {
  /** Length of one measurement. */
  readonly windowMs?: number;
  /** Windows spent on the better level before the other is measured again, as conditions change. */
  readonly probeEvery?: number;
  /** How much faster the other level must have been to switch to it without probing. */
  readonly margin?: number;
  readonly now?: () => number;
}

/**
 * Chooses how a plain tar is compressed on its way to the helper, by what moves the volume faster: on a slow
 * link (a VPN, another region, kubectl#1361's few MB/s) fewer bytes win, so gzip -1; where the link is fast
 * and the CPU is the limit (a cluster next door, this machine's cores shared with the pod's tar), storing
 * wins. Each level is measured in windows of uncompressed bytes taken per second; the first window (the
 * buffers on the way fill at any speed) and the window after a switch (blocks in flight were made at the level
 * before) are left out. The other level is measured
 * again every `probeEvery` windows, and taken at once whenever the current one falls below its last rate.
 */
export class UploadLevelChooser {
  private readonly windowMs: number;
  private readonly probeEvery: number;
  private readonly margin: number;
  private readonly now: () => number;
  private readonly rates = new Map<UploadLevel, number>();
  // gzip -1 first: real links are mostly slow. The first window fills the buffers on the way and is left out.
  private current: UploadLevel = 1;
  private windowStart: number;
  private windowBytes = 0;
  private settling = true;
  private windowsOnCurrent = 0;

  constructor(options: UploadLevelOptions = {}) {
    this.windowMs = options.windowMs ?? 1000;
    this.probeEvery = options.probeEvery ?? 10;
    this.margin = options.margin ?? 1.05;
    this.now = options.now ?? (() => performance.now());
    this.windowStart = this.now();
  }

  get level(): UploadLevel {
    return this.current;
  }

  /** Uncompressed bytes per second last measured at each level. */
  get measured(): ReadonlyMap<UploadLevel, number> {
    return this.rates;
  }

  /** Called with the uncompressed bytes taken so far; answers the level for the blocks from now on. */
  tick(bytesIn: number): UploadLevel {
    const elapsed = this.now() - this.windowStart;
    if (elapsed < this.windowMs) return this.current;
    const rate = ((bytesIn - this.windowBytes) * 1000) / elapsed;
    this.windowStart += elapsed;
    this.windowBytes = bytesIn;
    if (this.settling) {
      this.settling = false;
      return this.current;
    }
    this.rates.set(this.current, rate);
    this.windowsOnCurrent++;
    const other = LEVELS.find((l) => l !== this.current)!;
    const otherRate = this.rates.get(other);
    const probe = otherRate === undefined || this.windowsOnCurrent >= this.probeEvery;
    if (probe || otherRate > rate * this.margin) this.switchTo(other);
    return this.current;
  }

  private switchTo(level: UploadLevel): void {
    this.current = level;
    this.settling = true;
    this.windowsOnCurrent = 0;
  }
}
