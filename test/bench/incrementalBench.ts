// Incremental backups against full ones, in one run on one sandbox cluster: `npm run bench:incremental`
//   NKVM_BENCH_MB=100 NKVM_BENCH_SMALL_FILES=10000 npm run bench:incremental   (a quick check)
// A volume of 1 GB in 2,000 files: a full backup, 1 % of the files changed, an incremental backup, a full backup of
// the same state, a backup with nothing changed, then the incremental point and the full one restored into new
// claims. Then 100,000 small files backed up twice with nothing changed. Prints figures and PASS/FAIL per goal;
// exits 0 whatever the figures (it is a benchmark, not a test), 1 only when a backup or restore fails.
import { CoreV1Api } from '@kubernetes/client-node';
import { execFileSync, fork } from 'node:child_process';
import { build } from 'esbuild';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { runBackups } from '../../src/core/backup/backupRun';
import type { BackupResult, BackupSettings } from '../../src/core/backup/backupVolume';
import type { HistoryRecord } from '../../src/core/history/historyRecord';
import { HistoryStore } from '../../src/core/history/historyStore';
import { DATA_MOUNT, HELPER_CONTAINER } from '../../src/core/backup/helperPodSpec';
import { selectChanges } from '../../src/core/incremental/changeSelection';
import { compareListings } from '../../src/core/incremental/listingChanges';
import { listVolumeInPod } from '../../src/core/incremental/listVolumeInPod';
import { decodePodListing } from '../../src/core/incremental/podListingCodec';
import type { RestoreResult } from '../../src/core/restore/restoreVolume';
import { TEST_HELPER_IMAGE } from '../integration/helperImage';
import { boundClaim } from '../integration/restore/restoreFixture';
import { eventually, startSandbox, type SandboxFixture } from '../integration/sandboxFixture';
import { writeBenchVolume } from './benchVolume';
import type { RestoreAnswer, RestoreJob } from './restoreBenchChild';
import { cpuSnapshot, othersCores } from './machineLoad';

const MB = 1_000_000;
const VOLUME_MB = Number(process.env['NKVM_BENCH_MB'] ?? 1000);
const FILES = 2000;
const SMALL_FILES = Number(process.env['NKVM_BENCH_SMALL_FILES'] ?? 100_000);
const NS = 'media';
/** The helper's default user, as on a volume a workload writes (restores into new claims write as that user). */
const OWNER = '65534:65534';
/** Past the listing's clock second: a file written in the second a backup lists the volume is sent again next time. */
const settle = () => new Promise((r) => setTimeout(r, 1100));

interface Timed<T> {
  value: T;
  ms: number;
  /** When each stage was first reported, in ms from the start. */
  stages: Map<string, number>;
  othersCores: number;
}

interface Backup {
  result: BackupResult;
  row: HistoryRecord;
}

async function timed<T>(work: (stage: (name: string) => void) => Promise<T>): Promise<Timed<T>> {
  const stages = new Map<string, number>();
  const from = cpuSnapshot();
  const t0 = performance.now();
  const value = await work((name) => stages.has(name) || stages.set(name, performance.now() - t0));
  return { value, ms: performance.now() - t0, stages, othersCores: othersCores(from, cpuSnapshot()) };
}

const seconds = (ms: number | undefined): string => (ms === undefined ? '-' : (ms / 1000).toFixed(2));
const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;
const span = (t: Timed<unknown>, from: string, ...to: string[]): number | undefined => {
  const start = t.stages.get(from);
  const end = to.map((s) => (s === 'end' ? t.ms : t.stages.get(s))).find((v) => v !== undefined);
  return start === undefined || end === undefined ? undefined : end - start;
};

class Bench {
  readonly goals: { goal: string; figure: string; met: boolean }[] = [];
  private constructor(
    readonly sb: SandboxFixture,
    readonly history: HistoryStore,
  ) {}

  static async start(): Promise<Bench> {
    const sb = await startSandbox();
    return new Bench(sb, await HistoryStore.open(join(sb.dir, 'history.db')));
  }

  async stop(): Promise<void> {
    await this.history.close();
    await this.sb.stop();
  }

  goal(goal: string, figure: number, limit: number): void {
    this.goals.push({ goal, figure: figure.toFixed(3), met: figure <= limit });
  }

  /** A backup as `nkvm backup` runs it (live, pod-gzip level 6), the history choosing its base. */
  async backup(pvc: string, incremental?: 'full' | 'incremental'): Promise<Timed<Backup>> {
    const settings: BackupSettings = {
      backupDir: join(this.sb.dir, 'backups'),
      helperImage: TEST_HELPER_IMAGE,
      helperPodTimeoutSeconds: 60,
      consistency: 'live',
    };
    const t = await timed(async (stage) => {
      const run = await runBackups([{ context: 'sandbox', namespace: NS, pvc }], {
        kubeConfigFor: () => this.sb.kubeConfig,
        settings,
        concurrency: 1,
        history: this.history,
        ...(incremental ? { incremental } : {}),
        onProgress: (p) => stage(p.stage),
      });
      const result = run.results[0]!;
      if (result.status !== 'success') {
        throw new Error(`backup of ${pvc}: ${result.status} at ${result.stage}: ${result.message} ${result.nextStep ?? ''}`);
      }
      const [record] = await this.history.byRun(run.runId);
      return { result, row: record! };
    });
    console.error(`backup of ${pvc} (${t.value.result.kind ?? 'full'}): ${seconds(t.ms)} s, ${t.value.row.sizeBytes} bytes`);
    return t;
  }

  /**
   * A history row restored into a new claim, through its chain when it is incremental, by a process of its own
   * (the client apart from the API server, as the extension host or `nkvm restore` is on a real cluster).
   */
  async restore(backup: HistoryRecord, pvc: string): Promise<Timed<RestoreResult>> {
    const job: RestoreJob = {
      kubeconfigPath: this.sb.kubeconfigPath,
      historyPath: this.history.filePath,
      backupId: backup.id,
      request: {
        archivePath: backup.backupPath!,
        expectedSha256: backup.checksum ?? undefined,
        target: { context: 'sandbox', namespace: NS, pvc },
        createClaim: { storage: '4Gi', storageClassName: 'standard' },
      },
      settings: { helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 60 },
    };
    const from = cpuSnapshot();
    const answer = await runChild(await this.restoreChild(), job);
    const t: Timed<RestoreResult> = { value: answer.result, ms: answer.ms, stages: new Map(answer.stages), othersCores: othersCores(from, cpuSnapshot()) };
    const r = t.value;
    if (r.status !== 'success') throw new Error(`restore of #${backup.id}: ${r.status} at ${r.stage}: ${r.message} ${r.nextStep ?? ''}`);
    console.error(`restore of #${backup.id} (${backup.kind ?? 'full'}) into ${pvc}: ${seconds(t.ms)} s`);
    return t;
  }

  private childBundle?: Promise<string>;

  /** The restore process's code, bundled once as the extension is shipped (inside the project: it finds sql.js's wasm). */
  private restoreChild(): Promise<string> {
    const outfile = join(__dirname, '../../node_modules/.cache/nkvm-bench/restore-child.js');
    this.childBundle ??= build({
      entryPoints: [join(__dirname, 'restoreBenchChild.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      minify: true,
      keepNames: true,
      logLevel: 'error',
    }).then(() => outfile);
    return this.childBundle;
  }

  /** What the helper's listing and the comparison with a backup's stored listing take alone (as bench:incremental-listing). */
  async listingAndCompare(pvc: string, base: HistoryRecord): Promise<{ listMs: number; compareMs: number; entries: number; toSend: number }> {
    const core = this.sb.kubeConfig.makeApiClient(CoreV1Api);
    const pod = `lister-${pvc}`;
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: pod },
        spec: {
          containers: [
            {
              name: HELPER_CONTAINER,
              image: TEST_HELPER_IMAGE,
              command: ['sleep', '3600'],
              volumeMounts: [{ name: 'data', mountPath: DATA_MOUNT, readOnly: true }],
            },
          ],
          volumes: [{ name: 'data', persistentVolumeClaim: { claimName: pvc } }],
        },
      },
    });
    try {
      const running = async () => (await core.readNamespacedPod({ name: pod, namespace: NS })).status?.phase === 'Running';
      await eventually(`${pod} Running`, running, 60_000);
      const stored = await this.history.loadPodListing(base.id);
      if (!stored) throw new Error(`backup #${base.id} kept no listing`);
      const t0 = performance.now();
      const next = await listVolumeInPod(this.sb.kubeConfig, { namespace: NS, pod, image: TEST_HELPER_IMAGE });
      const t1 = performance.now();
      const selection = selectChanges(compareListings(decodePodListing(stored.listing), next), next);
      const t2 = performance.now();
      return { listMs: t1 - t0, compareMs: t2 - t1, entries: next.entries.length, toSend: selection.names.length };
    } finally {
      await core.deleteNamespacedPod({ name: pod, namespace: NS, gracePeriodSeconds: 0 });
    }
  }
}

/** Runs the bundled restore process; resolves once it has exited (so its CPU time counts as this process tree's). */
function runChild(outfile: string, job: RestoreJob): Promise<RestoreAnswer> {
  return new Promise((resolve, reject) => {
    const child = fork(outfile, [JSON.stringify(job)], { execArgv: [] });
    let answer: RestoreAnswer | undefined;
    child.on('message', (m) => (answer = m as RestoreAnswer));
    child.on('error', reject);
    child.on('exit', (code) => (answer && code === 0 ? resolve(answer) : reject(new Error(`the restore process exited with ${code}`))));
  });
}

/** 1 % of the files: 20 rewritten (half random, half text, same sizes), 5 deleted, 5 new. */
function changeOnePercent(root: string): void {
  const media = readdirSync(join(root, 'media')).sort();
  const logs = readdirSync(join(root, 'logs')).sort();
  const size = Math.floor((VOLUME_MB * MB) / FILES);
  const text = (n: number) =>
    Buffer.from(`${new Date().toISOString()} INFO [orders-1] rewritten line ${n}\n`.repeat(Math.ceil(size / 60))).subarray(0, size);
  const written: string[] = [];
  for (let i = 0; i < 10; i++) {
    writeFileSync(join(root, 'media', media[i * 97]!), randomBytes(size));
    writeFileSync(join(root, 'logs', logs[i * 97 + 1]!), text(i));
    written.push(join('media', media[i * 97]!), join('logs', logs[i * 97 + 1]!));
  }
  for (let i = 0; i < 5; i++) rmSync(join(root, 'media', media[i * 97 + 50]!));
  for (let i = 0; i < 5; i++) {
    const name = join('media', `added-${i}.bin`);
    writeFileSync(join(root, name), randomBytes(size));
    written.push(name);
  }
  // Only what was written is handed over: chown stamps a new ctime, which would make other files look changed.
  execFileSync('chown', [OWNER, ...written.map((n) => join(root, n))]);
}

function phasesTable(backups: [string, Timed<Backup>][]): void {
  console.log('\n### Where the backup time goes (seconds, cut at the stage changes the engine reports)\n');
  const parts = ['base choice, archive opened', 'helper created until running', 'listing + compare + exec start'];
  parts.push('stream (tar, gzip in the pod, transfer)');
  console.log(row(['backup', 'total', ...parts, 'fsync, verify, rename, helper deleted, history', 'other processes (cores)']));
  console.log(row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  for (const [label, t] of backups) {
    const before = t.stages.get('create');
    const cut = [span(t, 'create', 'exec'), span(t, 'exec', 'copy', 'checksum'), span(t, 'copy', 'checksum'), span(t, 'checksum', 'end')];
    console.log(row([label, seconds(t.ms), seconds(before), ...cut.map(seconds), t.othersCores.toFixed(2)]));
  }
}

async function largeVolume(bench: Bench): Promise<void> {
  const root = await boundClaim(bench.sb, NS, 'big');
  const half = (VOLUME_MB * MB) / FILES;
  const volume = await writeBenchVolume(root, VOLUME_MB * MB, { randomFileBytes: half, textFileBytes: half });
  execFileSync('chown', ['-R', OWNER, root]);
  console.log(`\n## Incremental backups\n\nVolume: ${(volume.bytes / MB).toFixed(0)} MB in ${volume.files} files (half random, half log text).`);
  console.log(`Helper userland ${TEST_HELPER_IMAGE}, consistency live, pod-gzip level 6.`);
  await settle();
  const first = await bench.backup('big');
  changeOnePercent(root);
  await settle();
  const second = await bench.backup('big');
  const equivalent = await bench.backup('big', 'full');
  await settle();
  const third = await bench.backup('big');
  if (second.value.result.kind !== 'incremental' || third.value.result.kind !== 'incremental') {
    throw new Error(`expected incremental backups: ${second.value.result.fullBecause ?? ''} ${third.value.result.fullBecause ?? ''}`);
  }
  const fullRestore = await bench.restore(equivalent.value.row, 'from-full');
  const chainRestore = await bench.restore(second.value.row, 'from-chain');
  // The chain must give the volume as the full archive does: same files, same bytes, same content as the source.
  for (const r of [fullRestore.value, chainRestore.value]) {
    if (r.files !== fullRestore.value.files || r.bytes !== fullRestore.value.bytes) {
      throw new Error(`restores differ: ${r.files} files/${r.bytes} bytes`);
    }
  }
  execFileSync('diff', ['-rq', '-x', 'lost+found', root, bench.sb.cluster.volumePath(NS, 'from-chain')]);
  const listing = await bench.listingAndCompare('big', third.value.row);

  const size = (t: Timed<Backup>) => t.value.row.sizeBytes!;
  // The history keeps the manifest (less its deleted paths): its counts say what each backup found and sent.
  const counts = second.value.result.increment;
  if (!counts) throw new Error('the second backup reported no counts');
  const thirdSent = third.value.result.increment?.sentEntries;
  const sent = `${counts.changed} changed, ${counts.added} added, ${counts.deleted} deleted`;
  console.log(`\nSecond backup: ${sent}, ${counts.unchanged} unchanged entries.`);
  console.log(`Third: ${thirdSent} entries sent.`);
  console.log('\n| step | time (s) | archive (MB) | time / first | archive / first |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  const line = (label: string, t: Timed<Backup>) =>
    console.log(row([label, seconds(t.ms), (size(t) / MB).toFixed(2), (t.ms / first.ms).toFixed(3), (size(t) / size(first)).toFixed(4)]));
  line('1. first backup (full, the reference)', first);
  line('2. after 1 % changed (incremental)', second);
  line('   full backup of the same state (`--full`)', equivalent);
  line('3. nothing changed (incremental)', third);
  phasesTable([['1. full', first], ['2. incremental', second], ['full, same state', equivalent], ['3. incremental, nothing changed', third]]);

  console.log('\n### Restore of the second backup into a new claim (seconds)\n');
  const upload = 'upload (chain: merge here, plain or gzip -1 as the link measures; tar x in the pod)';
  const read = 'read (MB; full: the .tar.gz, chain: the merged tar)';
  const sentHeader = 'sent to the pod (MB)';
  console.log(row(['restore', 'total', 'checks, claim, helper until upload', upload, 'verify, cleanup', read, sentHeader, 'other processes (cores)']));
  console.log(row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  const restores = [
    ['full archive of the same state (reference)', fullRestore],
    [`through its chain (${chainRestore.value.chainArchives} archives)`, chainRestore],
  ] as const;
  for (const [label, t] of restores) {
    const cut = [t.stages.get('upload'), span(t, 'upload', 'verify'), span(t, 'verify', 'end')];
    const mb = (n: number | undefined) => ((n ?? 0) / MB).toFixed(1);
    console.log(row([label, seconds(t.ms), ...cut.map(seconds), mb(t.value.archiveBytes), mb(t.value.sentBytes), t.othersCores.toFixed(2)]));
  }
  const restored = `${fullRestore.value.files} files, ${((fullRestore.value.bytes ?? 0) / MB).toFixed(1)} MB`;
  console.log(`\nBoth restored ${restored}; the chain's claim equals the source (diff -r).`);
  console.log(`Listing and compare alone on a fresh reader pod: listing ${seconds(listing.listMs)} s for ${listing.entries} entries,`);
  console.log(`compare ${seconds(listing.compareMs)} s, ${listing.toSend} to send.`);

  bench.goal('second backup time / first <= 0.10', second.ms / first.ms, 0.1);
  bench.goal('second archive / first <= 0.03', size(second) / size(first), 0.03);
  bench.goal('third backup time / first <= 0.05', third.ms / first.ms, 0.05);
  bench.goal('chain restore / full restore <= 1.10', chainRestore.ms / fullRestore.ms, 1.1);
}

async function manySmallFiles(bench: Bench): Promise<void> {
  const root = await boundClaim(bench.sb, NS, 'many');
  for (let i = 0; i < SMALL_FILES; i++) {
    const folder = join(root, `folder-${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(folder);
    writeFileSync(join(folder, `file-${i}.txt`), `small file ${i}\n`);
  }
  execFileSync('chown', ['-R', OWNER, root]);
  await settle();
  const first = await bench.backup('many');
  await settle();
  const second = await bench.backup('many');
  if (second.value.result.kind !== 'incremental') throw new Error(`expected an incremental backup: ${second.value.result.fullBecause}`);
  const inBackup = span(second, 'exec', 'copy', 'checksum')!;
  const listing = await bench.listingAndCompare('many', second.value.row);
  console.log(`\n### ${SMALL_FILES.toLocaleString('en')} small files in ${Math.ceil(SMALL_FILES / 100)} folders, nothing changed\n`);
  console.log(row(['measure', 'seconds']));
  console.log(row(['---', '---:']));
  console.log(row(['first backup (full)', seconds(first.ms)]));
  console.log(row(['second backup (incremental, nothing changed), whole', seconds(second.ms)]));
  console.log(row(['  of which listing + compare (stage `exec` until `checksum`, nothing sent)', seconds(inBackup)]));
  console.log(row(['  of which helper created until running', seconds(span(second, 'create', 'exec'))]));
  console.log(row([`listing alone (fresh reader pod, ${listing.entries} entries)`, seconds(listing.listMs)]));
  console.log(row([`decode the stored listing + compare + select (${listing.toSend} to send)`, seconds(listing.compareMs)]));
  console.log(row(['other processes during the second backup (cores)', second.othersCores.toFixed(2)]));
  phasesTable([['full', first], ['incremental, nothing changed', second]]);
  bench.goal(`${SMALL_FILES} files unchanged: listing + compare in the backup <= 10 s`, inBackup / 1000, 10);
}

async function main(): Promise<void> {
  const machine = `${availableParallelism()} CPUs (${cpus()[0]?.model.trim()}), Node ${process.version}`;
  console.log(`Machine: ${machine}, load average ${loadavg()[0]!.toFixed(2)} at the start.`);
  const bench = await Bench.start();
  try {
    await largeVolume(bench);
    await manySmallFiles(bench);
  } finally {
    await bench.stop();
  }
  console.log(`\n### Goals (load average ${loadavg()[0]!.toFixed(2)} at the end)\n`);
  console.log(row(['goal', 'figure', 'result']));
  console.log(row(['---', '---:', '---']));
  for (const g of bench.goals) console.log(row([g.goal, g.figure, g.met ? 'PASS' : '**FAIL**']));
  const missed = bench.goals.filter((g) => !g.met).length;
  if (missed) console.error(`\n${missed} of ${bench.goals.length} goals FAILED (see the table above)`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
