// A batch of eight volumes backed up four at a time against one after the other, on one sandbox
// cluster in the same run, with gzip in the helper pods. Each round runs the batch both ways twice:
//   (a) helper pods limited to NKVM_BENCH_POD_CPU (default 250m) through nkvm.helper.resources, which the
//       sandbox enforces with a CFS quota as the kubelet does: the pods' compression is the bottleneck,
//       as on a cluster where each helper gets its own CPU share;
//   (b) the helper's default resources (limits.cpu 2 per pod): four pods share this machine's cores,
//       so the machine is the bottleneck.
//   npm run bench:concurrency                                  (8 x 100 MB)
//   NKVM_BENCH_MB=10 npm run bench:concurrency                 (a quick run, 8 x 10 MB)
//   NKVM_BENCH_VOLUMES=8 NKVM_BENCH_CONCURRENCY=4 NKVM_BENCH_ROUNDS=2 NKVM_BENCH_POD_CPU=500m npm run bench:concurrency
// Prints figures only; it asserts nothing, so it is not part of the test run.
import { KubeConfig } from '@kubernetes/client-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBackups } from '../../src/core/backup/backupRun';
import type { BackupSettings, BackupTarget } from '../../src/core/backup/backupVolume';
import { DEFAULT_HELPER_RESOURCES } from '../../src/core/backup/helperPodSpec';
import { resolveHelperSettings, type HelperPodSettings } from '../../src/core/config/helperSettings';
import { parseCpuQuantity } from '../sandbox/exec/cpuLimit';
import { SandboxCluster } from '../sandbox/sandboxCluster';
import { writeBenchVolume } from './benchVolume';
import { cpuSnapshot, othersCores } from './machineLoad';

const MB = 1_000_000;
const VOLUME_MB = Number(process.env['NKVM_BENCH_MB'] ?? 100);
const VOLUMES = Number(process.env['NKVM_BENCH_VOLUMES'] ?? 8);
const CONCURRENCY = Number(process.env['NKVM_BENCH_CONCURRENCY'] ?? 4);
const ROUNDS = Number(process.env['NKVM_BENCH_ROUNDS'] ?? 1);
const POD_CPU = process.env['NKVM_BENCH_POD_CPU'] ?? '250m';
const NAMESPACE = 'bench';

function seedCluster(cluster: SandboxCluster): string[] {
  const claims = Array.from({ length: VOLUMES }, (_, i) => `volume-${i}`);
  cluster.seed(
    // Four nodes, so the scheduler spreads helpers as it would on a real cluster; here all run on this machine.
    ...['node-a', 'node-b', 'node-c', 'node-d'].map((name) => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux' } },
      spec: {},
      status: { conditions: [{ type: 'Ready', status: 'True' }], allocatable: { cpu: '4', memory: '16Gi', pods: '110' } },
    })),
    { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'standard' }, provisioner: 'sandbox.nkvm.dev/hostpath', volumeBindingMode: 'Immediate' },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
    ...claims.map((name) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name, namespace: NAMESPACE },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' },
    })),
  );
  return claims;
}

interface BatchFigures {
  concurrency: number;
  ms: number;
  bytes: number;
  failed: string[];
  /** Cores other processes kept busy meanwhile: the noise on a shared machine. */
  othersCores: number;
  /** CPU seconds this process and its children (the pods' tar and gzip) used per wall second. */
  ownCores: number;
}

/** One way to run the helper pods, with the `nkvm.helper.*` settings the extension would resolve for it. */
interface HelperVariant {
  label: string;
  podCpu: string;
  helperPod: HelperPodSettings;
}

function helperVariants(): HelperVariant[] {
  // resolveHelperSettings is what the extension and the CLI call with nkvm.helper.* and NKVM_HELPER_*.
  const limited = resolveHelperSettings({ resources: { limits: { cpu: POD_CPU } } }, process.env);
  const defaults = resolveHelperSettings({}, process.env);
  const podCpu = (settings: HelperPodSettings): string => settings.resources.limits?.cpu ?? DEFAULT_HELPER_RESOURCES.limits.cpu;
  return [
    { label: `helper pods limited to ${podCpu(limited)} CPU each (nkvm.helper.resources)`, podCpu: podCpu(limited), helperPod: limited },
    { label: `default helper resources (limits.cpu ${podCpu(defaults)} each)`, podCpu: podCpu(defaults), helperPod: defaults },
  ];
}

async function backUpBatch(kubeConfig: KubeConfig, targets: BackupTarget[], concurrency: number, helperPod: HelperPodSettings, backupDir: string): Promise<BatchFigures> {
  const settings: BackupSettings = { backupDir, helperImage: 'alpine:3.20', helperPodTimeoutSeconds: 120, compression: 'pod-gzip', compressionLevel: 6, helperPod };
  const from = cpuSnapshot();
  const started = performance.now();
  const run = await runBackups(targets, { kubeConfigFor: () => kubeConfig, settings, concurrency });
  const ms = performance.now() - started;
  const to = cpuSnapshot();
  return {
    concurrency,
    ms,
    bytes: run.results.reduce((sum, r) => sum + (r.sizeBytes ?? 0), 0),
    failed: run.results.filter((r) => r.status !== 'success').map((r) => `${r.pvc}: ${r.status} at ${r.stage}: ${r.message}`),
    othersCores: othersCores(from, to),
    ownCores: (to.ownTree - from.ownTree) / (ms / 1000),
  };
}

const seconds = (ms: number): string => (ms / 1000).toFixed(2);
const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * The best ratio when gzip is the bottleneck: a pod's gzip is one thread, so it uses at most one core,
 * or its limit when lower; the concurrent pods together get at most the machine's cores.
 */
function bestRatio(variant: HelperVariant, enforced: boolean): string {
  const cores = availableParallelism();
  const perPod = enforced ? Math.min(1, parseCpuQuantity(variant.podCpu) / 1000) : 1;
  const best = perPod / Math.min(CONCURRENCY * perPod, cores);
  return `With each pod's gzip the bottleneck (one thread, so at most one core or its limit), the best possible ratio is ${perPod} / min(${CONCURRENCY} x ${perPod}, ${cores} CPUs) = ${best.toFixed(2)} on this machine if nothing else ran.`;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nkvm-concurrency-bench-'));
  const cluster = await SandboxCluster.start({ dataDir: join(dir, 'data') });
  try {
    const claims = seedCluster(cluster);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(cluster.kubeconfig());
    let volumeBytes = 0;
    for (const claim of claims) volumeBytes += (await writeBenchVolume(cluster.volumePath(NAMESPACE, claim), VOLUME_MB * MB)).bytes;
    const targets = claims.map((pvc) => ({ context: kubeConfig.getCurrentContext(), namespace: NAMESPACE, pvc }));

    const variants = helperVariants();
    const figures = new Map(variants.map((v) => [v, { sequential: [] as BatchFigures[], concurrent: [] as BatchFigures[] }]));
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate which goes first, so a change in machine load does not favour one side.
      const odd = round % 2 === 1;
      for (const variant of odd ? variants : [...variants].reverse()) {
        for (const concurrency of odd ? [1, CONCURRENCY] : [CONCURRENCY, 1]) {
          const backupDir = join(dir, `round-${round}-${variant.podCpu}-c${concurrency}`);
          const batch = await backUpBatch(kubeConfig, targets, concurrency, variant.helperPod, backupDir);
          await rm(backupDir, { recursive: true, force: true });
          if (batch.failed.length) throw new Error(`backups failed with concurrency ${concurrency}, pods at ${variant.podCpu} CPU:\n${batch.failed.join('\n')}`);
          figures.get(variant)![concurrency === 1 ? 'sequential' : 'concurrent'].push(batch);
          console.error(`round ${round}, pods at ${variant.podCpu} CPU, concurrency ${concurrency}: ${seconds(batch.ms)} s, own cores ${batch.ownCores.toFixed(2)}, others ${batch.othersCores.toFixed(2)}`);
        }
      }
    }

    const enforcement = cluster.cpuLimits.enforcement;
    console.log('## Batch backup: concurrency against sequential\n');
    console.log(`Volumes: ${VOLUMES} x ${(volumeBytes / VOLUMES / MB).toFixed(0)} MB (half random, half log text), gzip level 6 in the helper pods. Rounds: ${ROUNDS}.`);
    console.log(`Machine: ${availableParallelism()} CPUs (${cpus()[0]?.model.trim()}), Node ${process.version}, load average ${loadavg()[0]!.toFixed(2)} at the end. Every helper pod's tar and gzip runs on this machine.`);
    console.log(
      enforcement.kind === 'none'
        ? `CPU limits NOT enforced (${enforcement.reason}): both runs below are the same, and the machine is the bottleneck.\n`
        : `CPU limits enforced as the kubelet does: a CFS quota of limit x 100 ms per container (${enforcement.kind}, ${enforcement.parent}).\n`,
    );
    for (const variant of variants) {
      const { sequential, concurrent } = figures.get(variant)!;
      const seqMs = median(sequential.map((f) => f.ms));
      const conMs = median(concurrent.map((f) => f.ms));
      console.log(`### ${variant.label}\n`);
      console.log(row(['run', 'time, median (s)', 'each round (s)', 'archives (MB)', 'MB/s (volume data)', 'cores used by the backups', 'cores used by other processes']));
      console.log(row(['---', '---:', '---:', '---:', '---:', '---:', '---:']));
      for (const [label, runs] of [['sequential (concurrency 1)', sequential], [`concurrency ${CONCURRENCY}`, concurrent]] as const) {
        const ms = median(runs.map((f) => f.ms));
        console.log(row([label, seconds(ms), runs.map((f) => seconds(f.ms)).join(', '), (runs[0]!.bytes / MB).toFixed(1), (volumeBytes / MB / (ms / 1000)).toFixed(1), median(runs.map((f) => f.ownCores)).toFixed(2), median(runs.map((f) => f.othersCores)).toFixed(2)]));
      }
      console.log(`\nConcurrency ${CONCURRENCY} took ${(conMs / seqMs).toFixed(2)} of the sequential time (goal: at most 0.40). ${bestRatio(variant, enforcement.kind !== 'none')}\n`);
    }
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exitCode = 1;
});
