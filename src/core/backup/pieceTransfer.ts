import type { KubeConfig } from '@kubernetes/client-node';
import { ExecFailedError, ExecRefusedError, ExecStreamBrokenError } from '../kube/podExec';
import { selectionCommand, selectionInput } from '../incremental/selectionCommand';
import type { ArchiveOptions } from './archiveCommand';
import { streamArchive, type StreamedArchive } from './archiveStream';
import { nextStepFor, StageError } from './backupStage';
import { PartialArchive } from './partialArchive';
import type { TransferPiece } from './streamPlan';
import { tarOutcome } from './tarStderr';

/** How often a piece is sent again after its stream broke, and the first wait (doubled each time). */
export interface RetryPolicy {
  readonly attempts: number;
  readonly firstDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, firstDelayMs: 1000 };

/** A piece that arrived whole and matched the pod's checksum, in a file of its own until it joins the archive. */
export interface ReceivedPiece {
  readonly piece: TransferPiece;
  readonly file: PartialArchive;
  readonly bytes: number;
  readonly streamed: StreamedArchive;
}

export interface PieceRequest {
  readonly namespace: string;
  readonly pod: string;
  /** The archive being made: the piece's file goes beside it, named after it. */
  readonly finalPath: string;
  readonly options: ArchiveOptions;
  readonly piece: TransferPiece;
  readonly retry: RetryPolicy;
  readonly signal?: AbortSignal;
  /** Bytes of the attempt in flight, every 250 ms and at its end. */
  readonly onBytes: (bytes: number) => void;
  /** The attempt that broke, what broke it, and when the piece is sent again. */
  readonly onRetry: (attempt: number, cause: string, delayMs: number, lostBytes: number) => void;
}

/** `<archive>.part-007.tar.gz` beside `<archive>.tar.gz`: a `.partial` that removeAbandonedPartials also clears. */
export function piecePath(finalPath: string, index: number): string {
  const ext = /\.tar(\.gz)?$/.exec(finalPath)?.[0] ?? '';
  return `${finalPath.slice(0, finalPath.length - ext.length)}.part-${String(index).padStart(3, '0')}${ext}`;
}

/**
 * Sends one piece: its own tar of its names over its own exec, into a file of its own, checked against the
 * sha256 the pod computed. A broken link (a cut stream, a reset connection, a 5xx or a helper that could
 * not run the command for a moment) or bytes that do not match make it start again, after a wait that
 * doubles, up to `retry.attempts` times; then, and on every other failure, a StageError.
 */
export async function sendPiece(kubeConfig: KubeConfig, request: PieceRequest): Promise<ReceivedPiece> {
  const { piece, options, retry, signal } = request;
  for (let attempt = 1; ; attempt++) {
    // A gzip'd part is checked by gzip's CRC-32 as it is listed, so it is not hashed here as well.
    const hashed = options.compression !== 'pod-gzip';
    const file = await PartialArchive.create(piecePath(request.finalPath, piece.index), { hashed });
    let problem: string;
    try {
      const streamed = await streamArchive(kubeConfig, {
        namespace: request.namespace,
        pod: request.pod,
        archive: file,
        options,
        command: selectionCommand(options.compression, options.level, { joinable: true }),
        stdin: selectionInput(piece.names),
        signal,
        onBytes: request.onBytes,
        tick: () => undefined,
      });
      const local = hashed ? await file.finish() : { bytes: await file.close(), sha256: undefined };
      const trailer = streamed.stderr.trailer;
      const received = streamed.received ?? local;
      // Checked by the pod's sha256, or for a gzip'd part by gzip's CRC-32 and length as it was inflated here.
      const intact = trailer?.sha256 === undefined ? trailer !== undefined && streamed.digests !== undefined : trailer.sha256 === received.sha256;
      if (tarOutcome(streamed.exitCode, streamed.stderr) === 'failed' || intact) {
        // tar's own failure is the backup's to judge (a missing tool, a fatal error): not a link to retry.
        return { piece, file, bytes: local.bytes, streamed };
      }
      problem = !trailer
        ? `part ${piece.index + 1} ended without the pod's trailer after ${received.bytes} bytes`
        : trailer.sha256
          ? `part ${piece.index + 1} arrived with sha256 ${received.sha256}, the pod sent ${trailer.sha256}`
          : `part ${piece.index + 1} arrived damaged (${streamed.digestsProblem ?? 'it could not be read'})`;
      await file.discard();
      request.onBytes(0);
      if (attempt >= retry.attempts) throw new StageError('checksum', problem, nextStepFor('checksum', { namespace: request.namespace }));
      request.onRetry(attempt, problem, 0, local.bytes);
      continue;
    } catch (e) {
      const lost = (e as { arrivedBytes?: number }).arrivedBytes ?? file.size;
      await file.discard();
      if (signal?.aborted || !(e instanceof StageError) || !brokenLink(e) || attempt >= retry.attempts) {
        if (e instanceof StageError && brokenLink(e) && !signal?.aborted) {
          throw Object.assign(
            new StageError('copy', `part ${piece.index + 1} could not be sent in ${attempt} attempts; the last one: ${e.causeText}`, `${e.nextStep} Resume the backup from the history while its helper still runs, or run it again with fewer streams (nkvm.backup.streams).`),
            { cause: e.cause },
          );
        }
        throw e;
      }
      problem = e.causeText;
      const delayMs = retry.firstDelayMs * 2 ** (attempt - 1);
      request.onBytes(0);
      request.onRetry(attempt, problem, delayMs, lost);
      await waitFor(delayMs, signal);
    }
  }
}

/** Whether a piece that failed this way may go through if sent again. */
function brokenLink(error: StageError): boolean {
  const cause = error.cause;
  if (cause instanceof ExecStreamBrokenError || cause instanceof ExecFailedError) return true;
  if (cause instanceof ExecRefusedError) return cause.statusCode === 429 || cause.statusCode >= 500;
  // The connection itself: reset, refused while the API server restarts, timed out.
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return error.stage === 'copy' && cause !== undefined && (code === undefined || /^E(CONNRESET|CONNREFUSED|PIPE|TIMEDOUT)$|^UND_ERR/.test(code));
}

function waitFor(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = (): void => {
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const stop = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}
