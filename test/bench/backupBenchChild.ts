// One measured run in its own process, so its memory is the client's alone and not the sandbox's.
// backupBench.ts bundles it as the extension is shipped and starts it with a job as JSON in argv[2];
// it answers over the IPC channel.
import { CoreV1Api, Exec, KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { archiveCommand, type CompressionMode } from '../../src/core/backup/archiveCommand';
import { backupVolume, BackupStatus } from '../../src/core/backup/backupVolume';
import { BackupStage } from '../../src/core/backup/backupStage';
import { createHelperPod, deleteHelperPod, waitForHelperPod } from '../../src/core/backup/helperPod';
import { HELPER_CONTAINER, helperPodSpec } from '../../src/core/backup/helperPodSpec';
import { PartialArchive } from '../../src/core/backup/partialArchive';
import { execInPod } from '../../src/core/kube/podExec';
import { ThrottledSink } from './throttledSink';

export type ChildJob =
  | { kind: 'backup'; namespace: string; pvc: string; backupDir: string; compression: CompressionMode; level: number }
  | {
      kind: 'stream';
      namespace: string;
      pvc: string;
      /** archive: the engine's own command (tar czf plus checksum trailer); targz: plain `tar czf`; tar: no compression. */
      command: 'archive' | 'targz' | 'tar';
      client: 'engine' | 'client-node';
      /** A file written by the engine's archive writer, or a sink taking at most this many bytes per second (0: unlimited). */
      destination: { file: string } | { bytesPerSecond: number };
    };

export interface MemoryFigures {
  /** RSS once the modules are loaded, before the run. */
  baselineRss: number;
  /** Highest RSS seen by sampling every 100 ms during the run. */
  peakRss: number;
  /** The kernel's high-water mark (VmHWM): catches a spike between two samples. */
  kernelPeakRss: number;
}

export interface BackupFigures extends MemoryFigures {
  kind: 'backup';
  status: BackupStatus;
  message: string;
  bytes: number;
  checksum?: string;
  totalMs: number;
  /** Placement, create and wait: until the helper runs. */
  setupMs: number;
  /** Exec until every byte is written (not yet synced). */
  transferMs: number;
  /** fsync, checksum comparison, rename and helper deletion. */
  finishMs: number;
}

export interface StreamFigures extends MemoryFigures {
  kind: 'stream';
  exitCode: number;
  bytes: number;
  ms: number;
}

export type ChildResult = BackupFigures | StreamFigures;

function kernelPeakRss(): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return kb ? Number(kb) * 1024 : 0;
}

async function measured<T>(work: () => Promise<T>): Promise<[T, MemoryFigures]> {
  const baselineRss = process.memoryUsage.rss();
  let peakRss = baselineRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);
  try {
    const value = await work();
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    return [value, { baselineRss, peakRss, kernelPeakRss: kernelPeakRss() }];
  } finally {
    clearInterval(sampler);
  }
}

async function runBackup(kubeConfig: KubeConfig, job: Extract<ChildJob, { kind: 'backup' }>): Promise<BackupFigures> {
  const stageAt = new Map<BackupStage, number>();
  const started = performance.now();
  const [result, memory] = await measured(() =>
    backupVolume(kubeConfig, { context: kubeConfig.getCurrentContext(), namespace: job.namespace, pvc: job.pvc }, { backupDir: job.backupDir, helperImage: 'alpine:3.20', helperPodTimeoutSeconds: 120, compression: job.compression, compressionLevel: job.level }, 'bench', {
      onProgress: (p) => {
        if (!stageAt.has(p.stage)) stageAt.set(p.stage, performance.now());
      },
    }),
  );
  const ended = performance.now();
  const execAt = stageAt.get('exec') ?? ended;
  const checksumAt = stageAt.get('checksum') ?? ended;
  return {
    kind: 'backup',
    status: result.status,
    message: result.message,
    bytes: result.sizeBytes ?? 0,
    checksum: result.checksum,
    totalMs: ended - started,
    setupMs: execAt - started,
    transferMs: checksumAt - execAt,
    finishMs: ended - checksumAt,
    ...memory,
  };
}

const commands = {
  archive: archiveCommand({ compression: 'pod-gzip', level: 6, include: [], exclude: [] }),
  targz: ['tar', 'czf', '-', '-C', '/data', '.'],
  tar: ['tar', 'cf', '-', '-C', '/data', '.'],
};

/** Streams from a helper pod into a file or a throttled sink, through the engine's exec or client-node's for contrast. */
async function runStream(kubeConfig: KubeConfig, job: Extract<ChildJob, { kind: 'stream' }>): Promise<StreamFigures> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const spec = helperPodSpec({ namespace: job.namespace, pvc: job.pvc, runId: 'bench-stream', image: 'alpine:3.20', deadlineSeconds: 3600 });
  const pod = (await createHelperPod(core, spec)).metadata!.name!;
  try {
    await waitForHelperPod(core, job.namespace, pod, 120);
    const archive = 'file' in job.destination ? await PartialArchive.create(job.destination.file) : undefined;
    const sink = archive?.writable() ?? new ThrottledSink((job.destination as { bytesPerSecond: number }).bytesPerSecond);
    const started = performance.now();
    const [exitCode, memory] = await measured(async () => {
      const command = commands[job.command];
      const code = job.client === 'engine' ? await execInPod(kubeConfig, { namespace: job.namespace, pod, container: HELPER_CONTAINER, command, stdout: sink, stderr: () => undefined }) : await clientNodeExec(kubeConfig, job.namespace, pod, command, sink);
      await new Promise<void>((resolve, reject) => {
        sink.once('error', reject);
        sink.end(() => resolve());
      });
      // Synced like a real backup, so the file case costs what the engine's copy stage costs.
      await archive?.finish();
      return code;
    });
    const bytes = archive?.size ?? (sink as ThrottledSink).bytes;
    await archive?.discard();
    return { kind: 'stream', exitCode, bytes, ms: performance.now() - started, ...memory };
  } finally {
    await deleteHelperPod(core, job.namespace, pod);
  }
}

/** client-node's own Exec, which writes every frame into stdout whatever `write()` returns. */
function clientNodeExec(kubeConfig: KubeConfig, namespace: string, pod: string, command: string[], sink: Writable): Promise<number> {
  return new Promise((resolve, reject) => {
    let code = -1;
    new Exec(kubeConfig)
      .exec(namespace, pod, HELPER_CONTAINER, command, sink, null, null, false, (status) => {
        code = status.status === 'Success' ? 0 : Number(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message ?? 1);
      })
      .then((ws) => {
        ws.on('close', () => resolve(code));
        ws.on('error', reject);
      }, reject);
  });
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]!) as ChildJob;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(process.env.NKVM_BENCH_KUBECONFIG!);
  const result: ChildResult = job.kind === 'backup' ? await runBackup(kubeConfig, job) : await runStream(kubeConfig, job);
  await new Promise<void>((resolve, reject) => process.send!(result, (e: Error | null) => (e ? reject(e) : resolve())));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
  },
);
