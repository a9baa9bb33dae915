import { quantityValue } from '../config/helperSettings';
import type { PodListing } from '../incremental/podListing';
import { planPieces, PARALLEL_FROM_BYTES, streamsFor, type StreamCount, type TransferPiece } from './streamPlan';
import { KEPT_UNREADABLE_PATHS, type TarStderrSummary } from './tarStderr';

/**
 * Whether the archive goes in parts, and which: when the volume was listed, holds something to send, and
 * more than one stream is asked for or it is large enough that a broken stream should not start it over.
 */
export function partsOf(
  listing: PodListing | undefined,
  names: readonly string[] | undefined,
  requested: StreamCount = 'auto',
  helperCpuLimit?: string,
): { streams: number; pieces: TransferPiece[] } | undefined {
  if (!listing || names?.length === 0) return undefined;
  const picked = names && new Set(names);
  const bytes = listing.entries.reduce((sum, e) => sum + (e.type === 'file' && (!picked || picked.has(e.name)) ? e.size : 0), 0);
  const streams = streamsFor(requested, bytes, helperCpuLimit === undefined ? undefined : quantityValue(helperCpuLimit));
  if (streams === 1 && bytes < PARALLEL_FROM_BYTES) return undefined;
  const pieces = planPieces(listing.entries, picked, streams);
  return pieces.length ? { streams, pieces } : undefined;
}

/** The fifos, sockets and devices a backup in parts leaves out, as the single archive command names them. */
export function skippedFromListing(listing: PodListing): TarStderrSummary['skipped'] {
  const others = listing.entries.filter((e) => e.type === 'other');
  return { count: others.length, entries: others.slice(0, KEPT_UNREADABLE_PATHS).map((e) => ({ kind: 'special file', path: e.name })) };
}
