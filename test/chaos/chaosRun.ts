import { CoreV1Api } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Fault } from '../sandbox/faults';
import { nkvmCommand } from '../integration/cli/runNkvm';
import { startSandbox, type SandboxFixture } from '../integration/sandboxFixture';
import { checkChaosInvariants, helperPodsNotEnded, historyRows, type ChaosFindings } from './chaosInvariants';
import { SeededRandom } from './seededRandom';

export interface ChaosOptions {
  /** Stop after at least this many SIGKILLs of nkvm processes. */
  kills: number;
  seed: number;
  /** The helpers' lease: how long a helper outlives a killed owner. */
  leaseSeconds: number;
  log: (line: string) => void;
}

export interface ChaosCounts {
  seed: number;
  rounds: number;
  processes: number;
  kills: number;
  faults: Record<string, number>;
  exits: Record<string, number>;
  /** Seconds from the last kill until no helper pod was running. */
  helpersEndedAfterSeconds: number;
  findings: ChaosFindings;
}

const NAMESPACE = 'chaos';
const VOLUMES = ['vol-a', 'vol-b', 'vol-c', 'vol-d'];
const HELPER_SELECTOR = 'app.kubernetes.io/component=backup-helper';

/**
 * Backs up and restores with `nkvm` processes that are SIGKILLed at random moments (two at a time
 * sharing one history, now and then), while the sandbox cuts exec streams, answers 500s, drops
 * connections and deletes helper pods; then checks what was left behind.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosCounts> {
  const random = new SeededRandom(options.seed);
  const sb = await startSandbox({ demo: true });
  try {
    seedChaosVolumes(sb, random);
    const env = chaosEnv(sb, options.leaseSeconds);
    const counts: ChaosCounts = { seed: options.seed, rounds: 0, processes: 0, kills: 0, faults: {}, exits: {}, helpersEndedAfterSeconds: 0, findings: undefined! };
    let lastKill = Date.now();
    while (counts.kills < options.kills) {
      counts.rounds++;
      const workers = random.chance(0.35) ? 2 : 1;
      const fault = random.chance(0.45) ? chooseFault(random) : undefined;
      const removeFault = fault && fault.kind !== 'deletePod' && fault.kind !== 'nodeLost' ? sb.cluster.faults.inject(fault) : undefined;
      if (fault) counts.faults[fault.kind] = (counts.faults[fault.kind] ?? 0) + 1;
      const runs = Array.from({ length: workers }, () => startWorker(sb, env, random));
      counts.processes += runs.length;
      const deletion = fault?.kind === 'deletePod' ? deleteHelperWhileStreaming(sb, runs, random) : undefined;
      const outage = fault?.kind === 'nodeLost' ? loseHelperNodeWhileStreaming(sb, runs, fault.downMs, random) : undefined;
      const outcomes = await Promise.all(
        runs.map(async (run) => {
          const plan = random.chance(0.8) ? await waitForKillMoment(sb, run, random) : 'finish';
          if (plan === 'kill' && run.child.exitCode === null) {
            run.child.kill('SIGKILL');
            counts.kills++;
            lastKill = Date.now();
          }
          return exitOf(run.child);
        }),
      );
      await deletion;
      const lost = await outage;
      removeFault?.();
      for (const o of outcomes) counts.exits[o] = (counts.exits[o] ?? 0) + 1;
      options.log(`round ${counts.rounds}: ${runs.map((r) => `[${r.child.pid}] ${r.description}`).join(' + ')}${fault ? ` with ${fault.kind}` : ''}${lost ? ` (${lost})` : ''} -> ${outcomes.join(', ')}`);
    }
    sb.cluster.faults.clear();
    counts.helpersEndedAfterSeconds = await waitForHelpersToEnd(sb, lastKill, options.leaseSeconds + 30);
    // The next run cleans up after the dead ones: stale partial files, rows left running.
    const next = await runToEnd(sb, env, ['backup', `${NAMESPACE}/${VOLUMES[0]}`]);
    options.log(`next run: exit ${next}`);
    counts.findings = await checkChaosInvariants({ dbPath: env.NKVM_METADATA_DB_PATH, backupDir: env.NKVM_BACKUP_DIR, kubeConfig: sb.kubeConfig });
    return counts;
  } finally {
    await sb.stop();
  }
}

interface Worker {
  child: ChildProcess;
  description: string;
  startedAt: number;
}

function chaosEnv(sb: SandboxFixture, leaseSeconds: number): Record<string, string> {
  return {
    KUBECONFIG: sb.kubeconfigPath,
    NKVM_BACKUP_DIR: join(sb.dir, 'chaos-backups'),
    NKVM_METADATA_DB_PATH: join(sb.dir, 'chaos-data', 'backups.db'),
    NKVM_HELPER_LEASE_SECONDS: String(leaseSeconds),
    NKVM_HELPER_POD_TIMEOUT_SECONDS: '30',
  };
}

/** Claims nobody mounts, each with a few MB of files, so a backup streams long enough to be cut. */
function seedChaosVolumes(sb: SandboxFixture, random: SeededRandom): void {
  sb.cluster.seed(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
    ...VOLUMES.map((name) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name, namespace: NAMESPACE },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' },
    })),
  );
  for (const name of VOLUMES) {
    const root = sb.cluster.volumePath(NAMESPACE, name);
    for (let i = 0; i < 6; i++) {
      const dir = join(root, `dir-${i}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `blob-${i}.bin`), randomBytes(random.int(200_000, 1_500_000)));
      writeFileSync(join(dir, `notes-${i}.txt`), `volume ${name}, folder ${i}\n`.repeat(random.int(100, 20_000)));
    }
  }
}

function startWorker(sb: SandboxFixture, env: Record<string, string>, random: SeededRandom): Worker {
  const rows = historyRows(env.NKVM_METADATA_DB_PATH).filter((r) => (r.operation ?? 'backup') === 'backup' && r.status === 'success');
  let args: string[];
  if (rows.length && random.chance(0.3)) {
    const row = random.pick(rows);
    const target = `${NAMESPACE}/restored-${randomBytes(3).toString('hex')}`;
    args = ['restore', String(row.id), '--to', target, '--new-claim'];
  } else {
    const volumes = random.sample(VOLUMES, random.int(1, 3)).map((v) => `${NAMESPACE}/${v}`);
    args = ['backup', ...volumes, '--concurrency', String(random.int(1, 2))];
  }
  const child = spawn(process.execPath, [...nkvmCommand(), ...args], { cwd: sb.dir, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'ignore'] });
  return { child, description: `nkvm ${args.join(' ')}`, startedAt: Date.now() };
}

/** Most kills land while a helper streams (a helper pod exists); some at any moment, start-up included. */
async function waitForKillMoment(sb: SandboxFixture, run: Worker, random: SeededRandom): Promise<'kill' | 'finish'> {
  const exited = exitOf(run.child).then(() => 'exited' as const);
  if (random.chance(0.3)) {
    const delay = new Promise<'delay'>((r) => setTimeout(() => r('delay'), random.int(100, 4000)));
    return (await Promise.race([exited, delay])) === 'exited' ? 'finish' : 'kill';
  }
  const core = sb.kubeConfig.makeApiClient(CoreV1Api);
  const deadline = run.startedAt + 20_000;
  while (run.child.exitCode === null && Date.now() < deadline) {
    // The sandbox's injected 500s and resets hit this client too; a failed look is just retried.
    const pods = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: HELPER_SELECTOR }).catch(() => ({ items: [] }));
    const started = pods.items.some((p) => p.status?.phase === 'Running' && new Date(p.metadata!.creationTimestamp!).getTime() >= run.startedAt - 1000);
    if (started) {
      const delay = new Promise<'delay'>((r) => setTimeout(() => r('delay'), random.int(0, 1500)));
      return (await Promise.race([exited, delay])) === 'exited' ? 'finish' : 'kill';
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return run.child.exitCode === null ? 'kill' : 'finish';
}

function exitOf(child: ChildProcess): Promise<string> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(describeExit(child.exitCode, child.signalCode));
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(describeExit(code, signal))));
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? signal : `exit ${code}`;
}

type ChaosFault = Fault | { kind: 'deletePod' } | { kind: 'nodeLost'; downMs: number };

function chooseFault(random: SeededRandom): ChaosFault {
  const target = { namespace: NAMESPACE, pod: 'nkvm-*' };
  return random.pick<() => ChaosFault>([
    () => ({ kind: 'execCut', target, afterBytes: random.int(1_000, 2_000_000) }),
    () => ({ kind: 'httpError', status: 500, count: random.int(1, 4), skip: random.int(0, 20) }),
    () => ({ kind: 'connectionReset', count: random.int(1, 3), skip: random.int(0, 20) }),
    () => ({ kind: 'deletePod' }),
    () => ({ kind: 'nodeLost', downMs: random.int(1_500, 5_000) }),
  ])();
}

/** Deletes a running helper of this round, as someone with kubectl (or an eviction) would, while it works. */
async function deleteHelperWhileStreaming(sb: SandboxFixture, runs: Worker[], random: SeededRandom): Promise<void> {
  const core = sb.kubeConfig.makeApiClient(CoreV1Api);
  const since = Math.min(...runs.map((r) => r.startedAt)) - 1000;
  const delayMs = random.int(0, 1500);
  const grace = random.chance(0.5) ? 0 : 1;
  while (runs.some((r) => r.child.exitCode === null && r.child.signalCode === null)) {
    const listed = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: HELPER_SELECTOR }).catch(() => ({ items: [] }));
    const pods = listed.items.filter(
      (p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp && new Date(p.metadata!.creationTimestamp!).getTime() >= since,
    );
    if (pods.length) {
      await new Promise((r) => setTimeout(r, delayMs));
      await core.deleteNamespacedPod({ namespace: NAMESPACE, name: random.pick(pods).metadata!.name!, gracePeriodSeconds: grace }).catch(() => undefined);
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The node under a running helper of this round goes away for `downMs` (a reboot the node controller notices
 * at once): the helper's streams break, exec to it is refused, and it fails once the node is back.
 */
async function loseHelperNodeWhileStreaming(sb: SandboxFixture, runs: Worker[], downMs: number, random: SeededRandom): Promise<string> {
  const core = sb.kubeConfig.makeApiClient(CoreV1Api);
  const since = Math.min(...runs.map((r) => r.startedAt)) - 1000;
  const delayMs = random.int(0, 1500);
  while (runs.some((r) => r.child.exitCode === null && r.child.signalCode === null)) {
    const listed = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: HELPER_SELECTOR }).catch(() => ({ items: [] }));
    const helper = listed.items.find((p) => p.status?.phase === 'Running' && p.spec?.nodeName && new Date(p.metadata!.creationTimestamp!).getTime() >= since);
    if (helper) {
      await new Promise((r) => setTimeout(r, delayMs));
      await sb.cluster.loseNode(helper.spec!.nodeName!, { downMs });
      return `${helper.spec!.nodeName} lost for ${downMs} ms under ${helper.metadata!.name}`;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return 'no helper ran';
}

/** Seconds after the last kill until no helper pod runs; gives up at `limitSeconds`. */
async function waitForHelpersToEnd(sb: SandboxFixture, lastKill: number, limitSeconds: number): Promise<number> {
  for (;;) {
    const running = await helperPodsNotEnded(sb.kubeConfig).catch(() => ['(could not list)']);
    const elapsed = (Date.now() - lastKill) / 1000;
    if (!running.length || elapsed > limitSeconds) return Math.round(elapsed * 10) / 10;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Runs `nkvm` to its end; returns its pid, exit and output, for the log. */
async function runToEnd(sb: SandboxFixture, env: Record<string, string>, args: string[]): Promise<string> {
  const child = spawn(process.execPath, [...nkvmCommand(), ...args], { cwd: sb.dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exit = await new Promise<string>((resolve) => child.once('close', (code, signal) => resolve(describeExit(code, signal))));
  return `[${child.pid}] ${exit}\n${output.trim().replace(/^/gm, '        ')}`;
}
