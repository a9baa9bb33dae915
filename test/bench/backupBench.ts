// Backup throughput and memory, the engine against `kubectl exec ... tar czf`, on one sandbox cluster:
//   npm run bench:backup          (NKVM_BENCH_MB=50 for a quick run, NKVM_BENCH_ROUNDS=5 for more rounds)
// Prints figures only; it asserts nothing, so it is not part of the test run.
import { build } from 'esbuild';
import { execFileSync, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { archiveCommand, COMPRESSION_MODES, type CompressionMode } from '../../src/core/backup/archiveCommand';
import { findHostBusybox } from '../sandbox/exec/busyboxUserland';
import { SandboxCluster } from '../sandbox/sandboxCluster';
import type { BackupFigures, ChildJob, ChildResult, StreamFigures } from './backupBenchChild';
import { writeBenchVolume } from './benchVolume';
import { Kubectl, kubectlBackup, KubectlRun } from './kubectlReference';
import { cpuSnapshot, othersCores } from './machineLoad';

const MB = 1_000_000;
const VOLUME_MB = Number(process.env['NKVM_BENCH_MB'] ?? 500);
const ROUNDS = Number(process.env['NKVM_BENCH_ROUNDS'] ?? 3);
const THROTTLE_MB_PER_S = 20;
const LEVEL = Number(process.env['NKVM_BENCH_LEVEL'] ?? 6);
const NAMESPACE = 'bench';
const PVC = 'bench-data';

function seedCluster(cluster: SandboxCluster): void {
  cluster.seed(
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-a', labels: { 'kubernetes.io/hostname': 'node-a', 'kubernetes.io/os': 'linux' } },
      spec: {},
      status: { conditions: [{ type: 'Ready', status: 'True' }], allocatable: { cpu: '4', memory: '16Gi', pods: '110' } },
    },
    { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'standard' }, provisioner: 'sandbox.nkvm.dev/hostpath', volumeBindingMode: 'Immediate' },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: PVC, namespace: NAMESPACE },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } }, storageClassName: 'standard' },
    },
  );
}

type ChildRunner = (job: ChildJob) => Promise<ChildResult>;

/**
 * Bundles the measured process as the extension and `nkvm` are shipped (esbuild, minified CJS) and
 * runs it under plain node: under tsx the same code starts with tens of MB more memory.
 */
async function childRunner(dir: string, kubeconfigPath: string): Promise<ChildRunner> {
  const outfile = join(dir, 'backupBenchChild.js');
  await build({ entryPoints: [join(__dirname, 'backupBenchChild.ts')], outfile, bundle: true, platform: 'node', format: 'cjs', target: 'node20', minify: true, keepNames: true, logLevel: 'error' });
  return (job) =>
    new Promise((resolve, reject) => {
      const child = fork(outfile, [JSON.stringify(job)], { execArgv: [], env: { ...process.env, NKVM_BENCH_KUBECONFIG: kubeconfigPath } });
      let result: ChildResult | undefined;
      child.on('message', (m) => (result = m as ChildResult));
      child.on('error', reject);
      child.on('exit', (code) => (result && code === 0 ? resolve(result) : reject(new Error(`the measured process (${job.kind}) exited with ${code}`))));
    });
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path).on('data', (c) => hash.update(c)).on('error', reject).on('end', () => resolve(hash.digest('hex')));
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(2);
const megabytes = (bytes: number): string => (bytes / MB).toFixed(1);
const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;

interface Round {
  /** kubectl, `tar czf` as a user would type it: the reference. */
  kubectl: KubectlRun;
  /** kubectl running the engine's in-pod command (tar czf plus the checksum trailer). */
  kubectlEngineCommand: KubectlRun;
  /** backupVolume with `pod-gzip`: the figure compared with kubectl since the first benchmark. */
  engine: BackupFigures;
  /** backupVolume in every compression mode (pod-gzip is `engine`). */
  modes: Record<CompressionMode, BackupFigures>;
  /** The engine's exec and archive writer running plain `tar czf`. */
  enginePlainTar: StreamFigures;
  identical: boolean;
  /** Cores other processes on the machine kept busy during the round, on average. */
  othersCores: number;
}

async function timingRounds(kubectl: Kubectl, child: ChildRunner, dir: string): Promise<Round[]> {
  const rounds: Round[] = [];
  for (let i = 1; i <= ROUNDS; i++) {
    const roundStart = cpuSnapshot();
    const outFile = join(dir, `kubectl-${i}.tar.gz`);
    const k = await kubectlBackup(kubectl, NAMESPACE, PVC, `bench-reader-${i}`, ['tar', 'czf', '-', '-C', '/data', '.'], outFile);
    const kubectlSha = await sha256File(outFile);
    await rm(outFile);

    const backupDir = join(dir, `engine-${i}`);
    const backupIn = async (compression: CompressionMode): Promise<BackupFigures> => {
      const figures = (await child({ kind: 'backup', namespace: NAMESPACE, pvc: PVC, backupDir, compression, level: LEVEL })) as BackupFigures;
      await rm(backupDir, { recursive: true, force: true });
      // success means verified: the pod's sha256 of what it sent matched what arrived before the rename.
      if (figures.status !== 'success') throw new Error(`the engine's ${compression} backup ended ${figures.status}: ${figures.message}`);
      return figures;
    };
    const engine = await backupIn('pod-gzip');
    const modes = { 'pod-gzip': engine, 'local-gzip': await backupIn('local-gzip'), none: await backupIn('none') };

    const kubectlEngineCommand = await kubectlBackup(kubectl, NAMESPACE, PVC, `bench-reader-${i}-trailer`, archiveCommand(), outFile);
    await rm(outFile);

    const enginePlainTar = (await child({ kind: 'stream', namespace: NAMESPACE, pvc: PVC, command: 'targz', client: 'engine', destination: { file: join(dir, `plain-${i}.tar.gz`) } })) as StreamFigures;
    rounds.push({ kubectl: k, kubectlEngineCommand, engine, modes, enginePlainTar, identical: engine.checksum === kubectlSha, othersCores: othersCores(roundStart, cpuSnapshot()) });
    console.error(`round ${i}: kubectl ${seconds(k.execMs)} s, engine ${seconds(engineStreamMs(engine))} s, kubectl with the engine's command ${seconds(kubectlEngineCommand.execMs)} s, engine with plain tar czf ${seconds(enginePlainTar.ms)} s, local-gzip ${seconds(engineStreamMs(modes['local-gzip']))} s, none ${seconds(engineStreamMs(modes.none))} s`);
  }
  return rounds;
}

/** From the exec request to a verified archive under its final name, the helper's deletion requested. */
const engineStreamMs = (e: BackupFigures): number => e.transferMs + e.finishMs;
const kubectlTotalMs = (k: KubectlRun): number => k.createMs + k.waitMs + k.execMs + k.deleteMs;

function printTiming(rounds: Round[]): void {
  const med = (pick: (r: Round) => number): number => median(rounds.map(pick));
  const ratioRow = (label: string, kubectlMs: number, engineMs: number): string => row([label, seconds(kubectlMs), seconds(engineMs), (engineMs / kubectlMs).toFixed(3)]);
  const archiveBytes = med((r) => r.engine.bytes);
  const kubectlStream = med((r) => r.kubectl.execMs);
  const engineStream = med((r) => engineStreamMs(r.engine));
  console.log(`\n### Time (median of ${rounds.length} rounds, seconds)\n`);
  console.log(row(['measure', 'kubectl', 'engine', 'engine / kubectl']));
  console.log(row(['---', '---:', '---:', '---:']));
  console.log(ratioRow('stream: exec until the archive is on disk (engine: + fsync, checksum check, rename, pod delete request)', kubectlStream, engineStream));
  console.log(ratioRow("stream, kubectl's fixed exec cost (`exec -- true`) taken off", med((r) => r.kubectl.execMs - r.kubectl.emptyExecMs), engineStream));
  console.log(ratioRow('end to end: create the pod, wait until it runs, stream, delete the pod', med((r) => kubectlTotalMs(r.kubectl)), med((r) => r.engine.totalMs)));
  console.log(`\nArchive ${megabytes(archiveBytes)} MB, byte-identical to kubectl's in ${rounds.filter((r) => r.identical).length} of ${rounds.length} rounds. Stream rate: kubectl ${megabytes(archiveBytes / (kubectlStream / 1000))} MB/s, engine ${megabytes(archiveBytes / (engineStream / 1000))} MB/s.`);
  console.log(`kubectl: create ${seconds(med((r) => r.kubectl.createMs))} s, wait ${seconds(med((r) => r.kubectl.waitMs))} s, delete ${seconds(med((r) => r.kubectl.deleteMs))} s, \`exec -- true\` ${seconds(med((r) => r.kubectl.emptyExecMs))} s.`);
  console.log(`Engine: until the helper runs ${seconds(med((r) => r.engine.setupMs))} s, transfer ${seconds(med((r) => r.engine.transferMs))} s, fsync + verify + rename + delete ${seconds(med((r) => r.engine.finishMs))} s.`);

  console.log('\n### Where the difference comes from (stream phase, median seconds)\n');
  console.log(row(['client', 'command in the pod', 'seconds', 'over kubectl + tar czf']));
  console.log(row(['---', '---', '---:', '---:']));
  const cell = (client: string, command: string, ms: number): string => row([client, command, seconds(ms), (ms / kubectlStream).toFixed(3)]);
  console.log(cell('kubectl exec > file', 'tar czf', kubectlStream));
  console.log(cell('kubectl exec > file', "the engine's: tar czf, tee, sha256sum", med((r) => r.kubectlEngineCommand.execMs)));
  console.log(cell('engine exec + archive writer + fsync', 'tar czf', med((r) => r.enginePlainTar.ms)));
  console.log(cell('backupVolume (all of the above)', "the engine's", engineStream));

  console.log('\n### Every round (seconds; kubectl ran first in each)\n');
  console.log(row(['round', 'kubectl exec', 'kubectl end to end', 'engine stream', 'engine end to end', 'kubectl + engine command', 'engine + tar czf', 'other processes (cores)']));
  console.log(row(['---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  rounds.forEach((r, i) =>
    console.log(row([i + 1, seconds(r.kubectl.execMs), seconds(kubectlTotalMs(r.kubectl)), seconds(engineStreamMs(r.engine)), seconds(r.engine.totalMs), seconds(r.kubectlEngineCommand.execMs), seconds(r.enginePlainTar.ms), r.othersCores.toFixed(2)])),
  );
}

function printModes(rounds: Round[]): void {
  const med = (pick: (r: Round) => number): number => median(rounds.map(pick));
  const kubectlStream = med((r) => r.kubectl.execMs);
  console.log(`\n### Compression modes against \`kubectl exec <pod> -- tar czf - -C /data . > file\` (median of ${rounds.length} rounds, gzip level ${LEVEL})\n`);
  console.log('Every engine run is verified: the sha256 the pod computed over what it sent equals the sha256 of what arrived, before the archive gets its final name.\n');
  console.log(row(['mode', 'stream (s)', 'end to end (s)', 'archive (MB)', 'volume MB/s', 'kubectl stream / engine stream', 'peak RSS (MB)']));
  console.log(row(['---', '---:', '---:', '---:', '---:', '---:', '---:']));
  console.log(row(['kubectl exec tar czf', seconds(kubectlStream), seconds(med((r) => kubectlTotalMs(r.kubectl))), '', '', '1.00', '']));
  for (const mode of COMPRESSION_MODES) {
    const stream = med((r) => engineStreamMs(r.modes[mode]));
    console.log(row([mode, seconds(stream), seconds(med((r) => r.modes[mode].totalMs)), megabytes(med((r) => r.modes[mode].bytes)), megabytes((VOLUME_MB * MB) / (stream / 1000)), (kubectlStream / stream).toFixed(2), megabytes(Math.max(...rounds.map((r) => Math.max(r.modes[mode].peakRss, r.modes[mode].kernelPeakRss))))]));
  }
}

async function memoryRuns(child: ChildRunner, rounds: Round[]): Promise<void> {
  const throttle = THROTTLE_MB_PER_S * MB;
  const stream = (command: 'archive' | 'tar', client: 'engine' | 'client-node', bytesPerSecond: number): ChildJob => ({ kind: 'stream', namespace: NAMESPACE, pvc: PVC, command, client, destination: { bytesPerSecond } });
  const scenarios: { label: string; job: ChildJob }[] = [
    { label: `engine exec, engine's command (tar czf + trailer), sink ${THROTTLE_MB_PER_S} MB/s`, job: stream('archive', 'engine', throttle) },
    { label: "engine exec, engine's command, unthrottled sink", job: stream('archive', 'engine', 0) },
    { label: `engine exec, tar cf (no gzip), sink ${THROTTLE_MB_PER_S} MB/s`, job: stream('tar', 'engine', throttle) },
    { label: 'engine exec, tar cf (no gzip), unthrottled sink', job: stream('tar', 'engine', 0) },
    { label: `contrast: client-node Exec (no backpressure), tar cf, sink ${THROTTLE_MB_PER_S} MB/s`, job: stream('tar', 'client-node', throttle) },
  ];
  console.log('\n### Memory of the client process (MB = 10^6 bytes)\n');
  console.log(row(['run', 'bytes streamed (MB)', 'time (s)', 'rate (MB/s)', 'RSS before (MB)', 'peak RSS, 100 ms samples (MB)', 'peak RSS, kernel VmHWM (MB)']));
  console.log(row(['---', '---:', '---:', '---:', '---:', '---:', '---:']));
  const worst = rounds.reduce((a, b) => (Math.max(b.engine.peakRss, b.engine.kernelPeakRss) > Math.max(a.engine.peakRss, a.engine.kernelPeakRss) ? b : a)).engine;
  const totalStream = engineStreamMs(worst);
  console.log(row(['backupVolume, local disk (worst of the timing rounds)', megabytes(worst.bytes), seconds(totalStream), megabytes(worst.bytes / (totalStream / 1000)), megabytes(worst.baselineRss), megabytes(worst.peakRss), megabytes(worst.kernelPeakRss)]));
  for (const { label, job } of scenarios) {
    const r = (await child(job)) as StreamFigures;
    if (r.exitCode !== 0) throw new Error(`${label}: the command exited with ${r.exitCode}`);
    console.log(row([label, megabytes(r.bytes), seconds(r.ms), megabytes(r.bytes / (r.ms / 1000)), megabytes(r.baselineRss), megabytes(r.peakRss), megabytes(r.kernelPeakRss)]));
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nkvm-backup-bench-'));
  const cluster = await SandboxCluster.start({ dataDir: join(dir, 'data') });
  try {
    seedCluster(cluster);
    const kubeconfigPath = join(dir, 'kubeconfig');
    cluster.writeKubeconfig(kubeconfigPath);
    const kubectl = new Kubectl(kubeconfigPath, dir);
    const volume = await writeBenchVolume(cluster.volumePath(NAMESPACE, PVC), VOLUME_MB * MB);
    const version = JSON.parse((await kubectl.run(['version', '-o', 'json'])).stdout) as { clientVersion: { gitVersion: string } };
    console.log('## Backup throughput and memory (engine vs kubectl exec)\n');
    console.log(`Volume: ${megabytes(volume.bytes)} MB in ${volume.files} files, half random, half log text. Rounds: ${ROUNDS}.`);
    // The sandbox runs alpine's commands with the host's BusyBox when there is one: its gzip sets the pace.
    const busybox = findHostBusybox();
    const userland = busybox ? execFileSync(busybox, ['--help'], { encoding: 'utf8' }).split('\n')[0]!.replace(/ multi-call binary\.?$/, '') : 'host GNU tools';
    console.log(`Machine: ${availableParallelism()} CPUs (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, kubectl ${version.clientVersion.gitVersion}, pod userland ${userland}, load average ${loadavg()[0]!.toFixed(2)} at the start.`);
    const child = await childRunner(dir, kubeconfigPath);
    const rounds = await timingRounds(kubectl, child, dir);
    printTiming(rounds);
    printModes(rounds);
    await memoryRuns(child, rounds);
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exitCode = 1;
});
