import type { KubeConfig } from '@kubernetes/client-node';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { DigestEntry } from '../archive/archiveDigests';
import { endOfArchiveBlocks, endOfArchiveMember } from '../incremental/manifestMember';
import type { ArchiveOptions } from './archiveCommand';
import type { StreamedArchive } from './archiveStream';
import type { PartialArchive } from './partialArchive';
import { DEFAULT_RETRY, sendPiece, type ReceivedPiece, type RetryPolicy } from './pieceTransfer';
import type { TransferPiece } from './streamPlan';
import { mergeStderr } from './tarStderr';
import { StreamRates, type StreamsProgress } from './streamRates';

/** Parts join in large reads: a write per 64 KB cost this process more than the hashing. */
const JOIN_CHUNK_BYTES = 4 * 1024 * 1024;

export interface ParallelArchiveRequest {
  readonly namespace: string;
  readonly pod: string;
  readonly archive: PartialArchive;
  readonly options: ArchiveOptions;
  readonly pieces: readonly TransferPiece[];
  readonly streams: number;
  readonly retry?: RetryPolicy;
  readonly signal?: AbortSignal;
  /** Every 250 ms: the bytes so far, each stream's rate, the time left and what is being sent again. */
  readonly onProgress: (progress: StreamsProgress) => void;
}

export interface ParallelArchiveResult extends StreamedArchive {
  /** Bytes that arrived in attempts that broke, and were sent again. */
  readonly resentBytes: number;
}

/**
 * Sends the pieces over `streams` exec streams at once, each piece a tar without its end, and joins them
 * in order into the archive as they complete, followed by one end of archive: a standard `.tar.gz` (gzip
 * members, one per piece) or `.tar`, which any tar reads in one pass. A piece whose stream breaks is sent
 * again on its own (pieceTransfer). Cancelling, or a piece that cannot be sent, stops every stream and
 * removes the pieces' files.
 */
export async function sendInParallel(kubeConfig: KubeConfig, request: ParallelArchiveRequest): Promise<ParallelArchiveResult> {
  const { archive, pieces } = request;
  const stop = new AbortController();
  const signal = request.signal ? AbortSignal.any([request.signal, stop.signal]) : stop.signal;
  const rates = new StreamRates(Math.min(request.streams, pieces.length), pieces.reduce((sum, p) => sum + p.bytes, 0), pieces.length);
  const received = new Map<number, ReceivedPiece>();
  const joined: ReceivedPiece[] = [];
  let next = 0;
  let joining = Promise.resolve();
  let resentBytes = 0;
  // The first failure is the cause; the other streams then fail only because they were stopped.
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown): void => {
    failure ??= { error };
    stop.abort(error);
  };

  const join = (): Promise<void> =>
    (joining = joining.then(async () => {
      for (let piece = received.get(joined.length); piece; piece = received.get(joined.length)) {
        received.delete(piece.piece.index);
        joined.push(piece);
        await pipeline(createReadStream(piece.file.partialPath, { highWaterMark: JOIN_CHUNK_BYTES }), archive.writable());
        await piece.file.discard();
      }
    }));

  const worker = async (stream: number): Promise<void> => {
    for (let index = next++; index < pieces.length && !signal.aborted; index = next++) {
      const piece = pieces[index]!;
      rates.start(stream, piece);
      const got = await sendPiece(kubeConfig, {
        namespace: request.namespace,
        pod: request.pod,
        finalPath: archive.finalPath,
        options: request.options,
        piece,
        retry: request.retry ?? DEFAULT_RETRY,
        signal,
        onBytes: (bytes) => rates.bytes(stream, bytes),
        onRetry: (attempt, cause, delayMs, lost) => {
          resentBytes += lost;
          rates.resuming(stream, `part ${piece.index + 1} again from its first file (attempt ${attempt + 1}${delayMs ? ` in ${Math.round(delayMs / 1000)} s` : ''}): ${cause}`);
        },
      });
      rates.done(stream, got.bytes);
      received.set(index, got);
      // The stream goes on to its next part while this one waits for those before it and joins.
      join().catch(fail);
    }
  };

  const timer = setInterval(() => request.onProgress(rates.progress()), 250);
  try {
    await Promise.all(Array.from({ length: Math.min(request.streams, pieces.length) }, (_, stream) => worker(stream).catch(fail)));
    await joining.catch(fail);
    if (failure) throw request.signal?.aborted ? request.signal.reason : failure.error;
    await archive.append(request.options.compression === 'none' ? endOfArchiveBlocks() : endOfArchiveMember());
    request.onProgress(rates.progress());
    return summarize(joined, resentBytes);
  } catch (e) {
    await joining.catch(() => undefined);
    await Promise.all([...received.values(), ...joined].map((p) => p.file.discard()));
    throw e;
  } finally {
    clearInterval(timer);
  }
}

/** One outcome for the whole archive: the worst exit status, every piece's messages, the digests in order. */
function summarize(pieces: readonly ReceivedPiece[], resentBytes: number): ParallelArchiveResult {
  const entries: DigestEntry[] = [];
  let digestsProblem: string | undefined;
  for (const { streamed } of pieces) {
    if (streamed.digests) entries.push(...streamed.digests.entries);
    else digestsProblem ??= streamed.digestsProblem ?? 'a part could not be listed';
  }
  return {
    exitCode: pieces.reduce((worst, p) => Math.max(worst, p.streamed.exitCode), 0),
    stderr: mergeStderr(pieces.map((p) => p.streamed.stderr)),
    ...(digestsProblem ? { digestsProblem } : { digests: { entries } }),
    resentBytes,
  };
}
