import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

/** The CFS period the kubelet uses for every container (cpuCFSQuotaPeriod), in microseconds. */
export const CFS_PERIOD_US = 100_000;

/** The kubelet never sets a quota below this (MinQuotaPeriod), whatever the limit. */
const MIN_QUOTA_US = 1_000;

/** Where containers' CPU limits are enforced, or why they are not. */
export type CpuEnforcement = { kind: 'cgroup-v1' | 'cgroup-v2'; parent: string } | { kind: 'none'; reason: string };

/** A container's cgroups, held by its main process and each command exec'd into it. */
export interface CpuCgroupLease {
  /** The cgroup.procs files the process writes its pid into before anything else runs (one per hierarchy on cgroup v1). */
  readonly procsFiles: string[];
  /** Whether the OOM killer has killed a process of the container since its cgroup was made, as containerd reports OOMKilled. */
  oomKilled(): boolean;
  /** Called once the process has exited; the cgroups go when their last process does. */
  release(): void;
}

/** The limits of one container, as `resources.limits` gives them. */
export interface ContainerLimits {
  cpu?: string;
  memory?: string;
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

/** A memory quantity ("256Mi", "1G", "128974848") in bytes, rounded up as the kubelet's Value does. */
export function parseMemoryQuantity(text: string): number {
  const m = QUANTITY.exec(text.trim());
  if (!m) throw new Error(`invalid memory quantity ${JSON.stringify(text)}: expected a Kubernetes quantity such as 64Mi or 1G`);
  const bytes = Number(m[1]) * (m[2] ? MULTIPLIER[m[2]]! : 10 ** Number(m[3] ?? 0));
  return Math.ceil(Math.round(bytes * 1e6) / 1e6);
}

/** The CFS quota for a limit, as the kubelet's MilliCPUToQuota computes it. */
export function cfsQuotaMicros(milliCpu: number, periodUs = CFS_PERIOD_US): number {
  return Math.max(MIN_QUOTA_US, Math.floor((milliCpu * periodUs) / 1000));
}

interface ContainerGroup {
  key: string;
  /** One folder per hierarchy (cpu and memory are separate on cgroup v1, one folder on v2). */
  dirs: string[];
  memoryDir?: string;
  kind?: 'cgroup-v1' | 'cgroup-v2';
  podUid: string;
  users: number;
}

/** Warned once per process: test runs start many sandboxes, and one line says it for all of them. */
const warned = new Set<string>();
function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  process.emitWarning(message);
}

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
const V1_MEMORY_MOUNT = '/sys/fs/cgroup/memory';
const V2_MOUNT = '/sys/fs/cgroup';

/**
 * Enforces containers' `resources.limits` the way the kubelet does: a CFS quota of limit x period for
 * `cpu` and `memory.max` / `memory.limit_in_bytes` for `memory`, on a cgroup per container
 * (`<mount>/nkvm-sandbox-<pid>-<id>/<pod-uid>/<container>`), on cgroup v1 or v2, whichever is writable.
 * The container's main process and every command exec'd into it join that cgroup, so they share one
 * quota and one memory limit as processes in a real container do. Without a writable cgroup nothing
 * is enforced, and {@link enforcement} / {@link memoryEnforcement} say why.
 */
export class CpuLimits {
  private probed: CpuEnforcement | undefined;
  private probedMemory: CpuEnforcement | undefined;
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

  /** Where `resources.limits.memory` is enforced: `memory.max` (v2) or `memory.limit_in_bytes` (v1). */
  get memoryEnforcement(): CpuEnforcement {
    if (!this.probedMemory) {
      this.probedMemory = probeMemory(this.name, this.enforcement);
      if (this.probedMemory.kind !== 'none') trackParent(this.probedMemory.parent);
    }
    return this.probedMemory;
  }

  /**
   * The cgroups a process of this container must join, created on first use with the container's CPU
   * quota and memory limit; undefined when neither limit is set (or enforced).
   */
  enter(podUid: string, container: string, limits: ContainerLimits | undefined): CpuCgroupLease | undefined {
    if (this.closed) return undefined;
    const cpu = this.cpuPlan(limits?.cpu);
    const memoryBytes = limits?.memory === undefined ? undefined : parseMemoryQuantity(limits.memory);
    const memory = memoryBytes ? this.memoryPlan() : undefined;
    if (!cpu && !memory) return undefined;
    // Both become folder names under /sys/fs/cgroup, so nothing like `..` may get through.
    if (!SAFE_NAME.test(podUid) || !SAFE_NAME.test(container)) throw new Error(`cannot make a cgroup for pod ${JSON.stringify(podUid)} container ${JSON.stringify(container)}`);
    const key = `${podUid}/${container}`;
    let group = this.groups.get(key);
    if (!group) {
      const dirs: string[] = [];
      let memoryDir: string | undefined;
      if (cpu) {
        const dir = join(cpu.enforcement.parent, podUid, container);
        createContainerGroup(cpu.enforcement, podUid, dir, 'cpu');
        if (cpu.enforcement.kind === 'cgroup-v1') {
          writeFileSync(join(dir, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
          writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(cpu.quotaUs));
        } else writeFileSync(join(dir, 'cpu.max'), `${cpu.quotaUs} ${CFS_PERIOD_US}`);
        dirs.push(dir);
      }
      if (memory) {
        memoryDir = join(memory.parent, podUid, container);
        createContainerGroup(memory, podUid, memoryDir, 'memory');
        writeFileSync(join(memoryDir, memory.kind === 'cgroup-v1' ? 'memory.limit_in_bytes' : 'memory.max'), String(memoryBytes));
        // Without swap accounting off, a v2 container could page out instead of meeting its limit.
        if (memory.kind === 'cgroup-v2') tryWrite(join(memoryDir, 'memory.swap.max'), '0');
        if (!dirs.includes(memoryDir)) dirs.push(memoryDir);
      }
      group = { key, dirs, memoryDir, kind: memory?.kind, podUid, users: 0 };
      this.groups.set(key, group);
    }
    group.users++;
    let released = false;
    const held = group;
    return {
      procsFiles: held.dirs.map((dir) => join(dir, 'cgroup.procs')),
      oomKilled: () => oomKills(held) > 0,
      release: () => {
        if (released) return;
        released = true;
        held.users--;
        if (held.users === 0) this.scheduleRemoval(held);
      },
    };
  }

  private cpuPlan(limit: string | undefined): { enforcement: Extract<CpuEnforcement, { parent: string }>; quotaUs: number } | undefined {
    if (limit === undefined) return undefined;
    const milliCpu = parseCpuQuantity(limit);
    // A quota of every core this machine has limits nothing; joining a cgroup would then only change
    // how the pod's processes weigh against the API server and the client, which share this machine
    // here but never a node on a real cluster.
    if (milliCpu === 0 || milliCpu >= availableParallelism() * 1000) return undefined;
    const enforcement = this.enforcement;
    if (enforcement.kind === 'none') {
      warnOnce(`the sandbox cluster does not enforce CPU limits: ${enforcement.reason}`);
      return undefined;
    }
    return { enforcement, quotaUs: cfsQuotaMicros(milliCpu) };
  }

  private memoryPlan(): Extract<CpuEnforcement, { parent: string }> | undefined {
    const enforcement = this.memoryEnforcement;
    if (enforcement.kind !== 'none') return enforcement;
    warnOnce(`the sandbox cluster does not enforce memory limits: ${enforcement.reason}`);
    return undefined;
  }

  /** Waits for the commands still running (the sandbox kills them when it stops), then removes every cgroup it made. */
  async close(): Promise<void> {
    this.closed = true;
    const deadline = Date.now() + 5_000;
    while ([...this.groups.values()].some((g) => g.users > 0) && Date.now() < deadline) await sleep(20);
    for (const group of this.groups.values()) this.scheduleRemoval(group);
    while (this.removals.size) await Promise.all([...this.removals]);
    for (const enforcement of [this.probed, this.probedMemory]) {
      if (!enforcement || enforcement.kind === 'none' || !openParents.has(enforcement.parent)) continue;
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
      if (group.users > 0 || this.groups.get(group.key) !== group) return;
      try {
        for (const dir of group.dirs) {
          try {
            rmdirSync(dir);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
          }
        }
        this.groups.delete(group.key);
        if (![...this.groups.values()].some((g) => g.podUid === group.podUid)) for (const dir of group.dirs) tryRmdir(join(dir, '..'));
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EBUSY') break;
      }
      await sleep(Math.min(200, 10 * 2 ** attempt));
    }
    if (group.users === 0 && this.groups.get(group.key) === group) {
      this.groups.delete(group.key);
      process.emitWarning(`the sandbox cluster could not remove the cgroups ${group.dirs.join(', ')}: processes are still in them`);
    }
  }
}

function createContainerGroup(enforcement: Extract<CpuEnforcement, { parent: string }>, podUid: string, dir: string, controller: 'cpu' | 'memory'): void {
  const podDir = join(enforcement.parent, podUid);
  mkdirSync(podDir, { recursive: true });
  if (enforcement.kind === 'cgroup-v2') enableController(podDir, controller);
  mkdirSync(dir, { recursive: true });
}

/** OOM kills in the container's memory cgroup: `oom_kill` in memory.events (v2) or memory.oom_control (v1, Linux 4.13+). */
function oomKills(group: ContainerGroup): number {
  if (!group.memoryDir) return 0;
  try {
    const text = readFileSync(join(group.memoryDir, group.kind === 'cgroup-v1' ? 'memory.oom_control' : 'memory.events'), 'utf8');
    return Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function probeMemory(name: string, cpu: CpuEnforcement): CpuEnforcement {
  if (existsSync(join(V1_MEMORY_MOUNT, 'memory.limit_in_bytes'))) {
    const parent = join(V1_MEMORY_MOUNT, name);
    try {
      mkdirSync(parent);
      return { kind: 'cgroup-v1', parent };
    } catch (error) {
      return { kind: 'none', reason: `cannot create a cgroup under ${V1_MEMORY_MOUNT} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); run the sandbox as root on Linux to enforce them` };
    }
  }
  if (controllers(V2_MOUNT).includes('memory')) {
    // On v2 one folder holds every controller: the CPU parent when there is one.
    const parent = cpu.kind === 'cgroup-v2' ? cpu.parent : join(V2_MOUNT, name);
    try {
      enableController(V2_MOUNT, 'memory');
      mkdirSync(parent, { recursive: true });
      enableController(parent, 'memory');
      return { kind: 'cgroup-v2', parent };
    } catch (error) {
      return { kind: 'none', reason: `cannot enable the memory controller under ${V2_MOUNT} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); run the sandbox as root on Linux to enforce them` };
    }
  }
  return { kind: 'none', reason: 'no cgroup memory controller is mounted (cgroup v1 memory.limit_in_bytes or cgroup v2 memory.max)' };
}

function tryWrite(file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch {
    // Absent without swap accounting: then there is no swap to limit.
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
      enableController(V2_MOUNT, 'cpu');
      mkdirSync(parent);
      try {
        enableController(parent, 'cpu');
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
function enableController(dir: string, controller: 'cpu' | 'memory'): void {
  const file = join(dir, 'cgroup.subtree_control');
  if (readFileSync(file, 'utf8').trim().split(/\s+/).includes(controller)) return;
  writeFileSync(file, `+${controller}`);
}

/** Parents left by a sandbox process that died without stopping; removable once their processes are gone. */
function sweepLeftovers(): void {
  for (const mount of [...V1_MOUNTS, V1_MEMORY_MOUNT, V2_MOUNT]) {
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
