import { readdirSync, readFileSync } from 'node:fs';

/** How long to wait for a stopped process to show as stopped before copying anyway. */
const STOP_WAIT_MS = 500;

/**
 * Stops every process in the trees under `roots` (SIGSTOP, re-scanned until no new child appears, since a
 * process may fork while its parent is being stopped) and returns the function that lets them go on.
 * A block-level CSI snapshot is one instant of the disk; copying a folder is not, unless nothing
 * writes while the copy runs, which is what this buys the sandbox's snapshots.
 */
export function freezeProcessTrees(roots: readonly number[]): () => void {
  const stopped = new Set<number>();
  for (let pass = 0; pass < 10; pass++) {
    const fresh = treeOf(roots).filter((pid) => !stopped.has(pid));
    if (!fresh.length) break;
    for (const pid of fresh) {
      try {
        process.kill(pid, 'SIGSTOP');
        stopped.add(pid);
      } catch {
        // Exited meanwhile: nothing of it writes any more.
      }
    }
    waitStopped(fresh);
  }
  return () => {
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // Gone.
      }
    }
  };
}

/** The roots and all their descendants, from /proc. */
function treeOf(roots: readonly number[]): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = statField(Number(entry), 'ppid') as number | undefined;
    if (parent === undefined) continue;
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const out: number[] = [];
  const queue = [...roots];
  while (queue.length) {
    const pid = queue.shift()!;
    if (out.includes(pid)) continue;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

function waitStopped(pids: readonly number[]): void {
  const until = Date.now() + STOP_WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < until && pids.some((pid) => ['R', 'S', 'D'].includes(String(statField(pid, 'state') ?? 'T')))) Atomics.wait(pause, 0, 0, 2);
}

/** `state` or `ppid` from /proc/<pid>/stat; the command name may hold spaces and parentheses. */
function statField(pid: number, field: 'state' | 'ppid'): string | number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return field === 'state' ? rest[0] : Number(rest[1]);
}
