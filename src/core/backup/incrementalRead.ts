import type { KubeConfig } from '@kubernetes/client-node';
import type { BaseDecision } from '../incremental/incrementalBase';
import { planIncrement, type IncrementalPlan } from '../incremental/incrementalPlan';
import { listVolumeInPod } from '../incremental/listVolumeInPod';
import type { PodListing } from '../incremental/podListing';
import type { ListingSelection } from '../incremental/podListingCommand';

export interface ChangeReading {
  /** The volume as the helper listed it, kept as the next backup's base; absent when it could not be listed. */
  readonly listing?: PodListing;
  /** What this backup sends when it is incremental. */
  readonly plan?: IncrementalPlan;
  /** Why the backup is full (when a base was considered or the listing failed). */
  readonly fullBecause?: string;
}

export interface ChangeReadRequest {
  readonly namespace: string;
  readonly pod: string;
  readonly image: string;
  readonly selection: ListingSelection;
  readonly decision?: BaseDecision;
  /**
   * When the volume was read through a snapshot: the instant it was cut (the listing itself starts later). Its
   * ctimes may be a copy's, so they are not compared.
   */
  readonly cutAt?: string;
  /** The helper reads the claim itself, not a snapshot's temporary claim. */
  readonly readLive: boolean;
  readonly signal?: AbortSignal;
}

/**
 * Lists the volume in the helper and, when a base was chosen, plans what changed since it. Every backup
 * lists, so that the next one can build on it. A listing that fails (a folder the helper cannot read) or a
 * plan that is refused makes this backup full, saying why: the archive is never less than the volume.
 */
export async function readChanges(kubeConfig: KubeConfig, request: ChangeReadRequest): Promise<ChangeReading> {
  const { decision } = request;
  const considered = decision && 'fullBecause' in decision ? decision.fullBecause : undefined;
  let listed: PodListing;
  try {
    listed = await listVolumeInPod(kubeConfig, { namespace: request.namespace, pod: request.pod, image: request.image, selection: request.selection, signal: request.signal });
  } catch (error) {
    request.signal?.throwIfAborted();
    const why = `the volume could not be listed to find what changed (${(error as Error).message})`;
    return { fullBecause: decision && 'base' in decision ? why : (considered ?? why) };
  }
  const listing = startingAtCut(listed, request.cutAt);
  if (!decision || !('base' in decision)) return { listing, ...(considered ? { fullBecause: considered } : {}) };
  try {
    return { listing, plan: planIncrement(decision.base, listing, new Date(), { readLive: request.readLive }) };
  } catch (error) {
    return { listing, fullBecause: (error as Error).message };
  }
}

/**
 * A snapshot's files were last written before its cut, not before the listing started: the racy-file rule of the
 * next backup must count from the cut (to the second, as the API gives it), or a write in the cut's last clock
 * tick would go unseen.
 */
function startingAtCut(listing: PodListing, cutAt: string | undefined): PodListing {
  const ms = cutAt === undefined ? Number.NaN : Date.parse(cutAt);
  if (!Number.isFinite(ms)) return listing;
  const cut = { s: Math.floor(ms / 1000), ns: 0 };
  const { startedAt } = listing;
  return cut.s < startedAt.s || (cut.s === startedAt.s && startedAt.ns > 0) ? { ...listing, startedAt: cut } : listing;
}
