import type { KubeConfig } from '@kubernetes/client-node';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArchiveDigestTap, type ArchiveDigests } from '../archive/archiveDigests';
import { describeKubeError } from '../kube/describeKubeError';
import { ExecFailedError, ExecRefusedError, ExecStreamBrokenError, execInPod } from '../kube/podExec';
import { ArchiveOptions, archiveCommand } from './archiveCommand';
import { nextStepFor, StageError } from './backupStage';
import { HELPER_CONTAINER } from './helperPodSpec';
import { ParallelGzip } from './localCompression';
import type { PartialArchive } from './partialArchive';
import { ReceivedDigest } from './receivedDigest';
import { TarStderr, type TarStderrSummary } from './tarStderr';
import { execGrantNextStep } from './helperPod';

/** gunzip's output chunk while listing: small chunks cost a callback each (16 KB: twice the CPU of 256 KB). */
const LISTING_CHUNK_BYTES = 256 * 1024;

export interface StreamedArchive {
  exitCode: number;
  /** Bounded: the first and last lines, counts and the checksum trailer (see TarStderr). */
  stderr: TarStderrSummary;
  /**
   * What arrived from the pod before local compression, which the pod's trailer describes; only for
   * `local-gzip` and after a prefix. Otherwise the archive holds exactly what arrived, so its own digest is it.
   */
  received?: { bytes: number; sha256: string };
  /** Every entry of the archive with the SHA-256 of its data, read from the bytes as they arrived. */
  digests?: ArchiveDigests;
  /** Why there is no listing (the stream was not a tar this process could read); the backup stands. */
  digestsProblem?: string;
}

export interface StreamArchiveRequest {
  namespace: string;
  pod: string;
  archive: PartialArchive;
  options: ArchiveOptions;
  /** What runs in the helper instead of archiveCommand(options) (an incremental backup's selection), and its stdin. */
  command?: string[];
  stdin?: Buffer;
  /** The archive already holds bytes the pod did not send (a manifest): check the pod's checksum against what arrived. */
  prefixed?: boolean;
  signal?: AbortSignal;
  /** Bytes written to the archive so far, every 250 ms and at the end. */
  onBytes: (n: number) => void;
  tick: () => void;
}

/**
 * Runs the archive command in the helper and writes its output into the partial archive, through
 * the local gzip pool for `local-gzip`. Every stage honours backpressure, so memory stays flat
 * whatever the disk's speed. Throws a StageError naming the stage that failed.
 */
export async function streamArchive(kubeConfig: KubeConfig, request: StreamArchiveRequest): Promise<StreamedArchive> {
  const { namespace, pod, archive, options, signal } = request;
  // Hashing the stream twice would cost a core's worth of sha256 on a large volume: only local
  // compression makes what arrived differ from what is written.
  const digest = options.compression === 'local-gzip' || request.prefixed ? new ReceivedDigest() : undefined;
  // What crossed the link, counted as it arrives: on a break, more than reached the disk.
  let arrived = 0;
  const received =
    digest ??
    new Transform({
      highWaterMark: 1024 * 1024,
      transform: (chunk: Buffer, _encoding, callback) => {
        arrived += chunk.length;
        callback(null, chunk);
      },
    });
  // Lists the tar as it arrives, before local compression, so no gzip layer is undone here for it.
  const listing = new ArchiveDigestTap(options.compression === 'pod-gzip', LISTING_CHUNK_BYTES);
  const stages: (Transform | Writable)[] = [received, listing];
  if (options.compression === 'local-gzip') stages.push(new ParallelGzip({ level: options.level }));
  stages.push(archive.writable());
  const stop = new AbortController();
  let writeError: Error | undefined;
  let tearingDown = false;
  // The pipeline destroys every stage on the first error, so a failed write or a worker crash stops the exec.
  const written = pipeline(stages).catch((e: Error) => {
    if (!tearingDown) {
      writeError = e;
      stop.abort(e);
    }
    throw e;
  });
  written.catch(() => undefined);
  const onAbort = (): void => stop.abort(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setInterval(() => {
    request.onBytes(archive.size);
    request.tick();
  }, 250);
  const stderr = new TarStderr();
  try {
    const exitCode = await execInPod(kubeConfig, {
      namespace,
      pod,
      container: HELPER_CONTAINER,
      command: request.command ?? archiveCommand(options),
      ...(request.stdin ? { stdin: Readable.from([request.stdin]) } : {}),
      stdout: received,
      stderr: (c) => stderr.write(c),
      signal: stop.signal,
    });
    received.end();
    await written;
    request.onBytes(archive.size);
    const listed = listing.digests();
    return {
      exitCode,
      stderr: stderr.end(),
      ...(digest ? { received: { bytes: digest.bytes, sha256: digest.digest() } } : {}),
      ...(listed.digests ? { digests: listed.digests } : { digestsProblem: listed.problem }),
    };
  } catch (e) {
    tearingDown = true;
    received.destroy();
    await written.catch(() => undefined);
    if (writeError && !signal?.aborted) throw new StageError('copy', `could not write the archive ${archive.partialPath}: ${writeError.message}`, nextStepFor('copy', { namespace }));
    if (signal?.aborted) throw e;
    // The exec's own error stays the cause: a transfer in pieces sends a piece again when its link broke.
    const failed = (stageError: StageError): StageError => Object.assign(stageError, { cause: e, arrivedBytes: digest?.bytes ?? arrived });
    if (e instanceof ExecRefusedError) {
      const forbidden = e.statusCode === 403;
      throw failed(new StageError('exec', `the API server refused to run tar in the helper pod: ${e.message}`, forbidden ? execGrantNextStep(namespace) : nextStepFor('exec', { namespace, helperPod: pod })));
    }
    if (e instanceof ExecFailedError) throw failed(new StageError('exec', `the helper pod could not run tar: ${e.message}`, nextStepFor('exec', { namespace, helperPod: pod })));
    if (e instanceof ExecStreamBrokenError) throw failed(new StageError('copy', `the stream broke after ${digest?.bytes ?? arrived} bytes: ${e.message}`, nextStepFor('copy', { namespace })));
    throw failed(new StageError('copy', `the stream failed after ${digest?.bytes ?? arrived} bytes: ${describeKubeError(e).message}`, nextStepFor('copy', { namespace })));
  } finally {
    clearInterval(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
