import { readFileSync } from 'node:fs';

/** Linux reports CPU time in clock ticks of 1/100 s (USER_HZ) on every common platform. */
const TICKS_PER_SECOND = 100;

export interface CpuSnapshot {
  /** Seconds the whole machine spent in user and system code (interrupts left out). */
  machineBusy: number;
  /** Seconds used by this process, its threads and every child it has reaped (kubectl, pod commands, measured processes). */
  ownTree: number;
  at: number;
}

/**
 * A snapshot of CPU use. Between two snapshots taken when no child is running, the machine's busy
 * time minus this process tree's is what other processes took: on a shared 2-core machine that is
 * the noise in a timing, so each round reports it.
 */
export function cpuSnapshot(): CpuSnapshot {
  const [user, nice, system] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // Fields after the command name; 14th and 15th of these are cutime and cstime (reaped children).
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ').map(Number);
  const self = process.cpuUsage();
  return {
    machineBusy: (user! + nice! + system!) / TICKS_PER_SECOND,
    ownTree: (self.user + self.system) / 1e6 + (fields[13]! + fields[14]!) / TICKS_PER_SECOND,
    at: performance.now(),
  };
}

/** Average number of cores other processes kept busy between two snapshots. */
export function othersCores(from: CpuSnapshot, to: CpuSnapshot): number {
  const others = to.machineBusy - from.machineBusy - (to.ownTree - from.ownTree);
  return Math.max(0, others) / ((to.at - from.at) / 1000);
}
