import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

/** The CFS period the kubelet uses for every container (cpuCFSQuotaPeriod), in microseconds. */
export const CFS_PERIOD_US = 100_000;

/** The kubelet never sets a quota below this (MinQuotaPeriod), whatever the limit. */
const MIN_QUOTA_US = 1_000;

/** Where containers' CPU limits are enforced, or why they are not. */
export type CpuEnforcement = { kind: 'cgroup-v1' | 'cgroup-v2'; parent: string } | { kind: 'none'; reason: string };

/** A container's cgroup, held while one exec'd command runs in it. */
export interface CpuCgroupLease {
  /** The cgroup.procs file the command's process writes its pid into before anything else runs. */
  readonly procsFile: string;
  /** Called once the command's process has exited; the cgroup goes when its last command does. */
  release(): void;
}

const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;
const MULTIPLIER: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** A CPU quantity ("250m", "0.5", "2", "1e3m") in millicores, rounded up as the kubelet's MilliValue does. */
export function parseCpuQuantity(text: string): number {
  const m = QUANTITY.exec(text.trim());
  if (!m) throw new Error(`invalid CPU quantity ${JSON.stringify(text)}: expected a Kubernetes quantity such as 250m, 0.5 or 2`);
  const cores = Number(m[1]) * (m[2] ? MULTIPLIER[m[2]]! : 10 ** Number(m[3] ?? 0));
  // Rounded to a millionth of a millicore first, so 0.1 * 1000 = 100.00000000000001 is not taken as 101.
  return Math.ceil(Math.round(cores * 1000 * 1e6) / 1e6);
}

/** The CFS quota for a limit, as the kubelet's MilliCPUToQuota computes it. */
export function cfsQuotaMicros(milliCpu: number, periodUs = CFS_PERIOD_US): number {
  return Math.max(MIN_QUOTA_US, Math.floor((milliCpu * periodUs) / 1000));
}

interface ContainerGroup {
  dir: string;
  podUid: string;
  users: number;
}

/** Warned once per process: test runs start many sandboxes, and one line says it for all of them. */
let warnedUnenforced = false;

/**
 * Parents of sandboxes not yet closed. A process that exits without stopping its sandbox (a test
 * that forgot to, an uncaught error) still removes their empty cgroups, through one exit hook for all.
 */
const openParents = new Set<string>();
let exitHookInstalled = false;

function trackParent(parent: string): void {
  openParents.add(parent);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const dir of openParents) removeTree(dir);
  });
}

const PARENT_PREFIX = 'nkvm-sandbox-';
/** Pod uids and container names (DNS-1123 labels) as the API server admits them. */
const SAFE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const V1_MOUNTS = ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct'];
const V2_MOUNT = '/sys/fs/cgroup';

/**
 * Enforces containers' `resources.limits.cpu` the way the kubelet does: a CFS quota of limit x period
 * on a cgroup per container (`<mount>/nkvm-sandbox-<pid>-<id>/<pod-uid>/<container>`), on cgroup v1
 * or v2, whichever is writable. Every command exec'd into the container joins that cgroup, so they
 * share one quota as processes in a real container do. Without a writable cgroup nothing is
 * enforced, and {@link enforcement} says why.
 */
export class CpuLimits {
  private probed: CpuEnforcement | undefined;
  private readonly groups = new Map<string, ContainerGroup>();
  private readonly removals = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly name = `${PARENT_PREFIX}${process.pid}-${Math.random().toString(36).slice(2, 8)}`) {}

  /** Probed on first use: the parent cgroup is created then, and removed by {@link close}. */
  get enforcement(): CpuEnforcement {
    if (!this.probed) {
      this.probed = probe(this.name);
      if (this.probed.kind !== 'none') trackParent(this.probed.parent);
    }
    return this.probed;
  }

  /**
   * The cgroup a command exec'd into this container must join, created on first use with the
   * container's quota; undefined when the container has no CPU limit or limits are not enforced.
   */
  enter(podUid: string, container: string, limit: string | undefined): CpuCgroupLease | undefined {
    if (limit === undefined || this.closed) return undefined;
    const milliCpu = parseCpuQuantity(limit);
    // A quota of every core this machine has limits nothing; joining a cgroup would then only change
    // how the pod's processes weigh against the API server and the client, which share this machine
    // here but never a node on a real cluster.
    if (milliCpu === 0 || milliCpu >= availableParallelism() * 1000) return undefined;
    const enforcement = this.enforcement;
    if (enforcement.kind === 'none') {
      if (!warnedUnenforced) {
        warnedUnenforced = true;
        process.emitWarning(`the sandbox cluster does not enforce CPU limits: ${enforcement.reason}`);
      }
      return undefined;
    }
    // Both become folder names under /sys/fs/cgroup, so nothing like `..` may get through.
    if (!SAFE_NAME.test(podUid) || !SAFE_NAME.test(container)) throw new Error(`cannot make a CPU cgroup for pod ${JSON.stringify(podUid)} container ${JSON.stringify(container)}`);
    const dir = join(enforcement.parent, podUid, container);
    let group = this.groups.get(dir);
    if (!group) {
      createContainerGroup(enforcement, podUid, dir, cfsQuotaMicros(milliCpu));
      group = { dir, podUid, users: 0 };
      this.groups.set(dir, group);
    }
    group.users++;
    let released = false;
    const held = group;
    return {
      procsFile: join(dir, 'cgroup.procs'),
      release: () => {
        if (released) return;
        released = true;
        held.users--;
        if (held.users === 0) this.scheduleRemoval(held);
      },
    };
  }

  /** Waits for the commands still running (the sandbox kills them when it stops), then removes every cgroup it made. */
  async close(): Promise<void> {
    this.closed = true;
    const deadline = Date.now() + 5_000;
    while ([...this.groups.values()].some((g) => g.users > 0) && Date.now() < deadline) await sleep(20);
    for (const group of this.groups.values()) this.scheduleRemoval(group);
    while (this.removals.size) await Promise.all([...this.removals]);
    const enforcement = this.probed;
    if (enforcement && enforcement.kind !== 'none') {
      await removeWhenEmpty(enforcement.parent);
      openParents.delete(enforcement.parent);
    }
  }

  private scheduleRemoval(group: ContainerGroup): void {
    const removal = this.remove(group).finally(() => this.removals.delete(removal));
    this.removals.add(removal);
  }

  private async remove(group: ContainerGroup): Promise<void> {
    // A killed command's processes die a moment after the process the sandbox waits for, so rmdir may see them.
    for (let attempt = 0; attempt < 40; attempt++) {
      if (group.users > 0 || this.groups.get(group.dir) !== group) return;
      try {
        rmdirSync(group.dir);
        this.groups.delete(group.dir);
        const podDir = join(group.dir, '..');
        if (![...this.groups.values()].some((g) => g.podUid === group.podUid)) tryRmdir(podDir);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return void this.groups.delete(group.dir);
        if ((error as NodeJS.ErrnoException).code !== 'EBUSY') break;
      }
      await sleep(Math.min(200, 10 * 2 ** attempt));
    }
    if (group.users === 0 && this.groups.get(group.dir) === group) {
      this.groups.delete(group.dir);
      process.emitWarning(`the sandbox cluster could not remove the CPU cgroup ${group.dir}: processes are still in it`);
    }
  }
}

function createContainerGroup(enforcement: Extract<CpuEnforcement, { parent: string }>, podUid: string, dir: string, quotaUs: number): void {
  const podDir = join(enforcement.parent, podUid);
  mkdirSync(podDir, { recursive: true });
  if (enforcement.kind === 'cgroup-v2') enableCpuController(podDir);
  mkdirSync(dir, { recursive: true });
  if (enforcement.kind === 'cgroup-v1') {
    writeFileSync(join(dir, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
    writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quotaUs));
  } else {
    writeFileSync(join(dir, 'cpu.max'), `${quotaUs} ${CFS_PERIOD_US}`);
  }
}

/**
 * A cgroup weighs as much as one busy process of the root group (1024 shares in v1, weight 100 in v2),
 * however many processes run in it. On a real cluster the helper pods run on nodes of their own; here
 * they share this machine with the API server and the client, and one process's weight for all of
 * them would starve their pipelines (tar, gzip, sha256sum) against those two. Weighted like one busy
 * process per core, the sandbox's pods together compete as a node's worth of processes: the quota
 * then limits each container, as on a node, and the weight does not.
 */
const NODE_WEIGHT_PER_CORE_V1 = 1024;
const NODE_WEIGHT_PER_CORE_V2 = 100;

function probe(name: string): CpuEnforcement {
  const problems: string[] = [];
  sweepLeftovers();
  const v1 = V1_MOUNTS.find((mount) => existsSync(join(mount, 'cpu.cfs_quota_us')));
  if (v1) {
    const parent = join(v1, name);
    try {
      mkdirSync(parent);
      writeFileSync(join(parent, 'cpu.shares'), String(NODE_WEIGHT_PER_CORE_V1 * availableParallelism()));
      return { kind: 'cgroup-v1', parent };
    } catch (error) {
      problems.push(`cannot create a cgroup under ${v1} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  if (controllers(V2_MOUNT).includes('cpu')) {
    const parent = join(V2_MOUNT, name);
    try {
      enableCpuController(V2_MOUNT);
      mkdirSync(parent);
      try {
        enableCpuController(parent);
        writeFileSync(join(parent, 'cpu.weight'), String(Math.min(10_000, NODE_WEIGHT_PER_CORE_V2 * availableParallelism())));
      } catch (error) {
        tryRmdir(parent);
        throw error;
      }
      return { kind: 'cgroup-v2', parent };
    } catch (error) {
      problems.push(`cannot create a cgroup with the cpu controller under ${V2_MOUNT} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  if (!problems.length) problems.push('no cgroup cpu controller is mounted (cgroup v1 cpu.cfs_quota_us or cgroup v2 cpu.max)');
  return { kind: 'none', reason: `${problems.join('; ')}; run the sandbox as root on Linux to enforce them` };
}

function controllers(dir: string): string[] {
  try {
    return readFileSync(join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
  } catch {
    return [];
  }
}

/** cgroup v2 gives children a controller only when their parent lists it in cgroup.subtree_control. */
function enableCpuController(dir: string): void {
  const file = join(dir, 'cgroup.subtree_control');
  if (readFileSync(file, 'utf8').trim().split(/\s+/).includes('cpu')) return;
  writeFileSync(file, '+cpu');
}

/** Parents left by a sandbox process that died without stopping; removable once their processes are gone. */
function sweepLeftovers(): void {
  for (const mount of [...V1_MOUNTS, V2_MOUNT]) {
    let names: string[];
    try {
      names = readdirSync(mount).filter((n) => n.startsWith(PARENT_PREFIX));
    } catch {
      continue;
    }
    for (const name of names) {
      const pid = Number(/^nkvm-sandbox-(\d+)/.exec(name)?.[1]);
      if (!pid || isAlive(pid)) continue;
      removeTree(join(mount, name));
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes a cgroup and the cgroups below it, deepest first; one still holding processes stays (EBUSY). */
async function removeWhenEmpty(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    removeTree(dir);
    if (!existsSync(dir)) return;
    await sleep(Math.min(200, 10 * 2 ** attempt));
  }
  if (existsSync(dir)) process.emitWarning(`the sandbox cluster could not remove the CPU cgroup ${dir}: processes are still in it`);
}

function removeTree(dir: string): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  // A cgroup's own files cannot be deleted; only its child folders are cgroups.
  for (const entry of entries) if (entry.isDirectory()) removeTree(join(dir, entry.name));
  tryRmdir(dir);
}

function tryRmdir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Busy (processes left) or already gone: the caller checks what is left.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
