import type { KubeConfig } from '@kubernetes/client-node';
import { Readable, Transform, Writable } from 'node:stream';
import { HELPER_CONTAINER } from '../backup/helperPodSpec';
import { describeKubeError } from '../kube/describeKubeError';
import { ExecFailedError, ExecRefusedError, ExecStreamBrokenError, execInPod } from '../kube/podExec';
import { BrokenChainError } from '../incremental/chainTree';
import { ArchiveTally, ArchiveTallyStream } from './archiveTally';
import { countCommand, countInput, extractCommand, modesCommand, modesInput, parseRestoredCount, parseRootMode } from './extractCommand';
import { RestoreStageError, restoreNextStepFor } from './restoreStage';
import { describeWriteProblems, writeProblems } from './writeProblems';
import { imageToolsNextStep, missingCommandIn } from '../backup/helperImageTools';
import type { RestoreRequest } from './restoreVolume';
import type { RestoreSource } from './restoreSource';
import { execGrantNextStep } from '../backup/helperPod';
import { keptLines, TarStderr } from '../backup/tarStderr';
import { ParallelGzip } from '../backup/localCompression';
import { FAST_LINK_BYTES_PER_SECOND, measureUploadRate } from './linkProbe';

export interface Uploaded {
  tally: ArchiveTally;
  count: { files: number; bytes: number };
  warnings: string[];
  /** Bytes the exec stream carried. */
  sentBytes: number;
}

/** What a failure message says about the helper: its image and who it runs as. */
export interface UploadHelper {
  image: string;
  /** `uid 65534, gid 65534` */
  runAs: string;
  runsAsRoot: boolean;
  newClaim: boolean;
}

/**
 * Streams the source into `tar x` in the pod over exec stdin, tallying the same bytes locally, unless the source's
 * tally is known in advance (a chain: its merge checks each archive against the checksum it was counted from).
 */
export async function upload(
  kubeConfig: KubeConfig,
  namespace: string,
  pod: string,
  source: RestoreSource,
  request: RestoreRequest,
  members: string[],
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
  helper?: UploadHelper,
): Promise<Uploaded> {
  const gzip = source.gzipped ? undefined : await uploadCompression(kubeConfig, namespace, pod, signal);
  const tally = source.tally ? undefined : new ArchiveTallyStream(request.paths ?? [], source.gzipped);
  const stop = new AbortController();
  const file = source.read(stop.signal);
  let bytes = 0;
  let readError: Error | undefined;
  const fail = (e: Error): void => {
    readError ??= e;
    stop.abort(e);
  };
  // Every chunk goes to the local tally before it is sent; a slow tally slows the upload.
  const tee = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      bytes += chunk.length;
      if (!tally || tally.input.write(chunk)) callback(null, chunk);
      else tally.input.once('drain', () => callback(null, chunk));
    },
    flush(callback) {
      tally?.input.end();
      callback();
    },
  });
  file.on('error', fail);
  tally?.input.on('error', fail);
  const stdin: Readable = gzip ? file.pipe(tee).pipe(gzip) : file.pipe(tee);
  gzip?.on('error', fail);
  const onAbort = (): void => stop.abort(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setInterval(() => onBytes(bytes), 250);
  // Bounded: a restore of many files must not keep every line tar prints.
  const stderr = new TarStderr();
  const sink = new Writable({ write: (_c: Buffer, _e, cb) => cb() });
  try {
    const exitCode = await execInPod(kubeConfig, {
      namespace,
      pod,
      container: HELPER_CONTAINER,
      command: extractCommand({ emptyFirst: !!request.emptyFirst, members, gzipped: source.gzipped || gzip !== undefined }),
      stdin,
      stdout: sink,
      stderr: (c) => stderr.write(c),
      signal: stop.signal,
    });
    onBytes(bytes);
    const messages = keptLines(stderr.end());
    if (exitCode !== 0) {
      const tool = missingCommandIn(exitCode, messages.join('\n'));
      if (tool && helper) throw new RestoreStageError('upload', `the helper image has no ${tool}: ${messages.slice(-1).join('')}`, imageToolsNextStep(helper.image, tool), messages);
      const problems = writeProblems(messages);
      if (problems && helper) {
        const described = describeWriteProblems(problems, { namespace, pvc: request.target.pvc, runAs: helper.runAs, runsAsRoot: helper.runsAsRoot, newClaim: helper.newClaim });
        throw new RestoreStageError('upload', described.cause, described.nextStep, messages);
      }
      throw new RestoreStageError('upload', `tar in the helper pod exited with code ${exitCode}${messages.length ? `: ${messages.slice(-3).join(' | ')}` : ''}`, restoreNextStepFor('upload', { namespace, helperPod: pod }), messages);
    }
    const archived = source.tally ?? (await tally!.result);
    const run = (command: string[], input: Buffer) => runWithInput(kubeConfig, namespace, pod, command, input, stop.signal);
    if (archived.modes.length) {
      const modes = await run(modesCommand(), modesInput(archived.modes));
      if (modes.exitCode !== 0) messages.push(...modes.stderr.split('\n').filter(Boolean).slice(-3));
    }
    const counted = await run(countCommand(), countInput(archived.fileNames));
    const count = parseRestoredCount(counted.stdout);
    if (!count) throw new RestoreStageError('verify', `the helper pod did not report what it wrote${counted.stderr ? `: ${counted.stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`, restoreNextStepFor('verify', { namespace }), messages);
    const rootMode = parseRootMode(counted.stdout);
    if (archived.rootMode !== undefined && rootMode !== undefined && rootMode !== archived.rootMode) {
      // A helper that does not own the mount point may not change its mode (BusyBox tar says nothing).
      const octal = (m: number) => m.toString(8).padStart(4, '0');
      messages.unshift(`The volume's root folder keeps mode ${octal(rootMode)} where the archive has ${octal(archived.rootMode)}: only its owner or root may change it (restore as root to set it).`);
    }
    return { tally: archived, count, warnings: messages, sentBytes: gzip ? gzip.bytesOut : bytes };
  } catch (e) {
    if (e instanceof RestoreStageError || signal?.aborted) throw e;
    if (readError instanceof BrokenChainError) {
      // Part of the volume may already be written from the archives read before it.
      const next = 'Make sure nothing writes the archive files of this chain, then restore again with emptyFirst.';
      throw new RestoreStageError('upload', `the backup's chain could not be sent after ${bytes} bytes: ${readError.message}`, next);
    }
    if (readError) throw new RestoreStageError('upload', `could not read the archive after ${bytes} bytes: ${readError.message}`, 'Check that the archive file is readable and not being changed, then restore again with emptyFirst.');
    if (e instanceof ExecRefusedError) {
      const forbidden = e.statusCode === 403;
      throw new RestoreStageError('upload', `the API server refused to run tar in the helper pod: ${e.message}`, forbidden ? execGrantNextStep(namespace) : restoreNextStepFor('upload', { namespace, helperPod: pod }));
    }
    if (e instanceof ExecFailedError) throw new RestoreStageError('upload', `the helper pod could not run tar: ${e.message}`, restoreNextStepFor('upload', { namespace, helperPod: pod }));
    if (e instanceof ExecStreamBrokenError) throw new RestoreStageError('upload', `the stream broke after ${bytes} bytes: ${e.message}`, restoreNextStepFor('upload', { namespace, helperPod: pod }));
    throw new RestoreStageError('upload', `${(e as Error).message ?? describeKubeError(e).message}`, restoreNextStepFor('upload', { namespace, helperPod: pod }));
  } finally {
    clearInterval(timer);
    signal?.removeEventListener('abort', onAbort);
    file.destroy();
    tee.destroy();
    gzip?.destroy();
  }
}

/** Runs a short command in the helper with `input` on stdin; stdout and stderr as text (small: one line, a few errors). */
async function runWithInput(kubeConfig: KubeConfig, namespace: string, pod: string, command: string[], input: Buffer, signal: AbortSignal): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const exitCode = await execInPod(kubeConfig, {
    namespace,
    pod,
    container: HELPER_CONTAINER,
    command,
    stdin: Readable.from([input]),
    stdout: new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }),
    stderr: (c) => void (err.length < 64 && err.push(c)),
    signal,
  });
  return { exitCode, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

/**
 * A merged chain is a plain tar. Over a slow link it is gzip'd here (level 1, on this machine's cores, blocks of
 * random data stored), so the exec stream carries about what a full archive would; over a fast one it goes as it
 * is. Measured in the sandbox (300 MB, half random, CPU-bound: the pod shares this machine's 2 cores): plain
 * 5.46 s against 5.72 s for the full archive, gzip -1 6.83 s, stored gzip members 7.41 s (BusyBox inflates stored
 * blocks byte by byte).
 */
async function uploadCompression(kubeConfig: KubeConfig, namespace: string, pod: string, signal: AbortSignal | undefined): Promise<ParallelGzip | undefined> {
  const rate = await measureUploadRate(kubeConfig, namespace, pod, signal);
  return rate !== undefined && rate >= FAST_LINK_BYTES_PER_SECOND ? undefined : new ParallelGzip({ level: 1 });
}
