import { cpus } from 'node:os';

export interface QuietWait {
  /** How long the wait took. */
  waitedMs: number;
  /** False when the machine never became quiet before the deadline (other work was running). */
  quiet: boolean;
  /** CPU use of the whole machine (all cores) during the last sample, in percent. */
  lastBusyPercent: number;
}

export interface QuietOptions {
  /** Never stop waiting before this; start-up comes in bursts with short pauses between them. */
  minMs: number;
  /** How long every sample must stay under maxBusyPercent. */
  quietMs: number;
  maxBusyPercent: number;
  /** Give up waiting after this and say so in the result. */
  maxMs: number;
  sampleMs: number;
}

/**
 * On a fresh window the workbench, the server and the extension host keep both cores busy for a few
 * seconds; this waits until the whole machine has been nearly idle for a while, so that what is timed
 * next is the work itself and not the queue in front of it. Measured here on code-server 1.100.3 the
 * start-up bursts end about 2 s after the extension tests start, hence the defaults.
 */
export async function waitForQuietMachine(options: Partial<QuietOptions> = {}): Promise<QuietWait> {
  const { minMs, quietMs, maxBusyPercent, maxMs, sampleMs } = { minMs: 2000, quietMs: 1000, maxBusyPercent: 20, maxMs: 10_000, sampleMs: 100, ...options };
  const started = Date.now();
  let previous = cpuTimes();
  let quietSince = started;
  let lastBusyPercent = 100;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, sampleMs));
    const now = Date.now();
    const current = cpuTimes();
    const total = current.total - previous.total;
    lastBusyPercent = total > 0 ? (100 * (current.busy - previous.busy)) / total : 0;
    previous = current;
    if (lastBusyPercent > maxBusyPercent) quietSince = now;
    const waitedMs = now - started;
    if (waitedMs >= minMs && now - quietSince >= quietMs) return { waitedMs, quiet: true, lastBusyPercent };
    if (waitedMs >= maxMs) return { waitedMs, quiet: false, lastBusyPercent };
  }
}

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}
