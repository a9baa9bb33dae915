// Snapshot backups against live backups of the same claim, on one sandbox cluster in this process:
//   npm run bench:snapshot                                   (500 MB, 4 rounds)
//   NKVM_BENCH_MB=50 NKVM_BENCH_ROUNDS=2 npm run bench:snapshot   (a quick check)
// Each round backs up the claim with consistency 'live' (the reference) and 'snapshot', the order
// alternating between rounds. Prints figures only; it asserts nothing beyond the archives being sound.
import { KubeConfig } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackupStage } from '../../src/core/backup/backupStage';
import { backupVolume, type BackupSettings } from '../../src/core/backup/backupVolume';
import { findHostBusybox } from '../sandbox/exec/busyboxUserland';
import { types } from '../sandbox/cluster/types';
import { SandboxCluster } from '../sandbox/sandboxCluster';
import { writeBenchVolume } from './benchVolume';
import { cpuSnapshot, othersCores } from './machineLoad';
import { checkArchive, listingDifference } from './snapshotArchiveCheck';

const MB = 1_000_000;
const VOLUME_MB = Number(process.env['NKVM_BENCH_MB'] ?? 500);
const ROUNDS = Number(process.env['NKVM_BENCH_ROUNDS'] ?? 4);
const NAMESPACE = 'bench';
const PVC = 'bench-data';
const CSI_DRIVER = 'disk.csi.sandbox.nkvm.dev';
/** Files of 200 kB and 100 kB: a 500 MB claim holds 3,750 of them, so per-file costs show. */
const FILE_SIZES = { randomFileBytes: 200_000, textFileBytes: 100_000 };

type Mode = 'live' | 'snapshot';

/** The parts of one backup, in milliseconds, cut where the engine reports a stage change. */
interface Phases {
  /** Opening the archive and deciding how to read the claim, until the first stage. */
  plan: number;
  /** `snapshot`: cut the VolumeSnapshot and wait until it is ready to use. */
  snapshot: number;
  /** `clone`: the temporary claim made from the snapshot, until it is bound. */
  clone: number;
  /** `create` and `wait`: the helper pod until it runs. */
  helper: number;
  /** `exec` and `copy`: the archive streamed to disk. */
  stream: number;
  /** `checksum` to the return: fsync, verify, rename, delete the helper (and the temporary claim and snapshot). */
  finish: number;
}

interface ModeRun {
  mode: Mode;
  ms: number;
  phases: Phases;
  bytes: number;
  checksum: string;
  entries: string[];
  othersCores: number;
  /** VolumeSnapshots, temporary claims and helper pods still in the cluster after the backup returned. */
  leftovers: string[];
}

function seedCluster(cluster: SandboxCluster): void {
  cluster.seed(
    {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-a', labels: { 'kubernetes.io/hostname': 'node-a', 'kubernetes.io/os': 'linux' } },
      spec: {},
      status: { conditions: [{ type: 'Ready', status: 'True' }], allocatable: { cpu: '4', memory: '16Gi', pods: '110' } },
    },
    // A block-storage CSI driver with a default VolumeSnapshotClass, as the demo's `standard` class.
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'standard' },
      provisioner: CSI_DRIVER,
      volumeBindingMode: 'Immediate',
    },
    {
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshotClass',
      metadata: { name: 'csi-snapclass', annotations: { 'snapshot.storage.kubernetes.io/is-default-class': 'true' } },
      driver: CSI_DRIVER,
      deletionPolicy: 'Delete',
    },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: PVC, namespace: NAMESPACE },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } }, storageClassName: 'standard' },
    },
  );
}

function leftovers(cluster: SandboxCluster): string[] {
  type Labelled = { metadata?: { labels?: Record<string, string> } };
  const component = (o: Labelled): string | undefined => o.metadata?.labels?.['app.kubernetes.io/component'];
  return [
    ...cluster.store.list(types.snapshots).map((s) => `VolumeSnapshot ${s.metadata.name}`),
    ...cluster.store.list(types.pvcs).filter((c) => component(c) === 'snapshot-claim').map((c) => `claim ${c.metadata.name}`),
    ...cluster.store.list(types.pods).filter((p) => component(p) === 'backup-helper').map((p) => `pod ${p.metadata.name}`),
  ];
}

async function backUp(cluster: SandboxCluster, kubeConfig: KubeConfig, mode: Mode, backupDir: string, runId: string): Promise<ModeRun> {
  const settings: BackupSettings = {
    backupDir,
    helperImage: 'alpine:3.20',
    helperPodTimeoutSeconds: 120,
    compression: 'pod-gzip',
    compressionLevel: 6,
    consistency: mode,
  };
  const seen = new Map<BackupStage, number>();
  const from = cpuSnapshot();
  const started = performance.now();
  const target = { context: kubeConfig.getCurrentContext(), namespace: NAMESPACE, pvc: PVC };
  const result = await backupVolume(kubeConfig, target, settings, runId, {
    onProgress: (p) => {
      if (!seen.has(p.stage)) seen.set(p.stage, performance.now());
    },
  });
  const ended = performance.now();
  const load = othersCores(from, cpuSnapshot());
  if (result.status !== 'success' || result.consistency !== mode) {
    const read = result.consistency ?? 'undecided';
    const why = `${result.message} ${result.nextStep ?? ''}`;
    throw new Error(`the ${mode} backup ended ${result.status} (read ${read}) at ${result.stage}: ${why}`);
  }
  const at = (stage: BackupStage, fallback: number): number => seen.get(stage) ?? fallback;
  const create = at('create', ended);
  const clone = at('clone', create);
  const snapshot = at('snapshot', clone);
  const exec = at('exec', ended);
  const checksum = at('checksum', ended);
  const phases: Phases = {
    plan: snapshot - started,
    snapshot: clone - snapshot,
    clone: create - clone,
    helper: exec - create,
    stream: checksum - exec,
    finish: ended - checksum,
  };

  const archive = await checkArchive(result.archivePath!);
  if (archive.sha256 !== result.checksum) {
    throw new Error(`the ${mode} archive ${result.archivePath}: sha256sum gives ${archive.sha256}, the engine recorded ${result.checksum}`);
  }
  await rm(backupDir, { recursive: true, force: true });
  return {
    mode,
    ms: ended - started,
    phases,
    bytes: result.sizeBytes ?? 0,
    checksum: archive.sha256,
    entries: archive.entries,
    othersCores: load,
    leftovers: leftovers(cluster),
  };
}

function sameListing(a: ModeRun, b: ModeRun, round: number): void {
  const { onlyInFirst, onlyInSecond } = listingDifference(a.entries, b.entries);
  if (onlyInFirst.length || onlyInSecond.length) {
    const only = (mode: Mode, entries: string[]): string => `only in ${mode}: ${entries.join(', ') || '-'}`;
    const differences = `${only(a.mode, onlyInFirst)}; ${only(b.mode, onlyInSecond)}`;
    throw new Error(`round ${round}: the ${a.mode} and ${b.mode} archives list different files; ${differences}`);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(2);
const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;

interface Round {
  first: Mode;
  live: ModeRun;
  snapshot: ModeRun;
}

function printResults(rounds: Round[]): void {
  const of = (mode: Mode): ModeRun[] => rounds.map((r) => r[mode]);
  const med = (mode: Mode, pick: (r: ModeRun) => number): number => median(of(mode).map(pick));
  const live = med('live', (r) => r.ms);
  const snapshot = med('snapshot', (r) => r.ms);
  console.log(`\n### Time of one backup (median of ${rounds.length} rounds, seconds)\n`);
  console.log(row(['consistency', 'median (s)', 'each round (s)', 'over live']));
  console.log(row(['---', '---:', '---:', '---:']));
  for (const [mode, ms] of [['live', live], ['snapshot', snapshot]] as const) {
    const label = mode === 'live' ? 'live (reference)' : 'snapshot';
    console.log(row([label, seconds(ms), of(mode).map((r) => seconds(r.ms)).join(', '), (ms / live).toFixed(3)]));
  }
  const perRoundRatios = rounds.map((r) => (r.snapshot.ms / r.live.ms).toFixed(3));
  console.log(`\nRatio snapshot / live: **${(snapshot / live).toFixed(3)}** (of the medians); by round ${perRoundRatios.join(', ')}.`);
  console.log(`Extra time of a snapshot backup: ${seconds(snapshot - live)} s (medians).`);

  console.log('\n### Where the time goes (median seconds, cut at the stage changes onProgress reports)\n');
  console.log(row(['part', 'live', 'snapshot']));
  console.log(row(['---', '---:', '---:']));
  const parts: [keyof Phases, string][] = [
    ['plan', 'open the archive, decide how to read the claim (until the first stage)'],
    ['snapshot', 'stage `snapshot`: cut the VolumeSnapshot, wait until it is ready'],
    ['clone', 'stage `clone`: temporary claim from the snapshot, until bound'],
    ['helper', 'stages `create` and `wait`: the helper pod until it runs'],
    ['stream', 'stages `exec` and `copy`: the archive streamed to disk'],
    ['finish', 'stage `checksum` to the end: fsync, verify, rename, delete the helper (snapshot: then the claim and snapshot)'],
  ];
  for (const [key, label] of parts) {
    const snapshotOnly = key === 'snapshot' || key === 'clone';
    const cell = (mode: Mode): string => (mode === 'live' && snapshotOnly ? '-' : seconds(med(mode, (r) => r.phases[key])));
    console.log(row([label, cell('live'), cell('snapshot')]));
  }
  console.log(row(['whole backup', seconds(live), seconds(snapshot)]));

  console.log('\n### Every round (seconds)\n');
  const others = 'other processes, live / snapshot (cores)';
  console.log(row(['round', 'first', 'live', 'snapshot', 'snapshot / live', 'stage snapshot', 'stage clone', others]));
  console.log(row(['---:', '---', '---:', '---:', '---:', '---:', '---:', '---:']));
  rounds.forEach((r, i) =>
    console.log(
      row([
        i + 1,
        r.first,
        seconds(r.live.ms),
        seconds(r.snapshot.ms),
        (r.snapshot.ms / r.live.ms).toFixed(3),
        seconds(r.snapshot.phases.snapshot),
        seconds(r.snapshot.phases.clone),
        `${r.live.othersCores.toFixed(2)} / ${r.snapshot.othersCores.toFixed(2)}`,
      ]),
    ),
  );

  const all = rounds.flatMap((r) => [r.live, r.snapshot]);
  const identical = rounds.filter((r) => r.live.checksum === r.snapshot.checksum).length;
  const archiveMb = (median(all.map((r) => r.bytes)) / MB).toFixed(1);
  console.log(`\nArchives: ${all.length}, ${archiveMb} MB each (median); \`sha256sum\` of each equals the checksum the engine recorded.`);
  const entries = rounds[0]!.live.entries.length;
  console.log(`Listings (\`tar -tzf\`): live and snapshot archives list the same ${entries} entries in every round.`);
  console.log(`Byte-identical live and snapshot archives in ${identical} of ${rounds.length} rounds.`);
  const left = all.flatMap((r) => r.leftovers);
  const nothing = 'nothing (no VolumeSnapshot, temporary claim or helper pod)';
  console.log(`Left in the cluster after the backups returned: ${left.length ? left.join(', ') : nothing}.`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nkvm-snapshot-bench-'));
  const cluster = await SandboxCluster.start({ dataDir: join(dir, 'data') });
  try {
    seedCluster(cluster);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(cluster.kubeconfig());
    const volume = await writeBenchVolume(cluster.volumePath(NAMESPACE, PVC), VOLUME_MB * MB, FILE_SIZES);
    const loadAtStart = loadavg()[0]!;
    const rounds: Round[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      // Alternate which goes first, so a change in machine load or a warmer cache does not favour one side.
      const order: Mode[] = i % 2 === 1 ? ['live', 'snapshot'] : ['snapshot', 'live'];
      const runs = {} as Record<Mode, ModeRun>;
      for (const mode of order) {
        runs[mode] = await backUp(cluster, kubeConfig, mode, join(dir, `backups-${i}-${mode}`), `bench-${mode}-${i}`);
      }
      sameListing(runs.live, runs.snapshot, i);
      if (rounds.length) sameListing(rounds[0]!.live, runs.live, i);
      rounds.push({ first: order[0]!, live: runs.live, snapshot: runs.snapshot });
      const s = runs.snapshot.phases;
      console.error(
        `round ${i} (${order[0]} first): live ${seconds(runs.live.ms)} s, snapshot ${seconds(runs.snapshot.ms)} s ` +
          `(stage snapshot ${seconds(s.snapshot)} s, clone ${seconds(s.clone)} s), ` +
          `others ${runs.live.othersCores.toFixed(2)} / ${runs.snapshot.othersCores.toFixed(2)} cores`,
      );
    }

    const busybox = findHostBusybox();
    const busyboxVersion = (path: string): string =>
      execFileSync(path, ['--help'], { encoding: 'utf8' }).split('\n')[0]!.replace(/ multi-call binary\.?$/, '');
    const userland = busybox ? busyboxVersion(busybox) : 'host GNU tools';
    console.log('## Snapshot backups against live backups\n');
    const volumeMb = (volume.bytes / MB).toFixed(1);
    const claim = `a \`standard\` claim of CSI driver ${CSI_DRIVER}`;
    console.log(`Volume: ${volumeMb} MB in ${volume.files} files (half random, half log text), ${claim}.`);
    console.log(`Backups: pod-gzip level 6, helper alpine:3.20 (${userland}). Rounds: ${ROUNDS}, the order alternating.`);
    const delay = cluster.snapshots.readyDelayMs;
    const copies = `a snapshot is \`cp -a\` of the volume's folder, ready ${delay} ms after it is cut; the temporary claim is another copy`;
    console.log(`Sandbox: ${copies}.`);
    const machine = `${availableParallelism()} CPUs (${cpus()[0]?.model.trim()}), Node ${process.version}`;
    const load = `load average ${loadAtStart.toFixed(2)} after filling the volume, ${loadavg()[0]!.toFixed(2)} at the end`;
    console.log(`Machine: ${machine}, ${load}.`);
    printResults(rounds);
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exitCode = 1;
});
