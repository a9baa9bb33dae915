import { stat } from 'node:fs/promises';
import type { IncrementalPolicy } from '../config/archiveSettings';
import { HistoryChainError, resolveHistoryChain } from '../history/historyChain';
import type { HistoryStore } from '../history/historyStore';
import type { IncrementalBase } from './incrementalPlan';
import { decodePodListing } from './podListingCodec';
import type { ListingSelection } from './podListingCommand';

/** `--full` / `--incremental` on the command line: over the policy and the run length. */
export type IncrementalRequest = 'full' | 'incremental';

export interface IncrementalChoice {
  /** The volume and what is read from it, as the next backup reads them. */
  readonly target: { readonly context: string; readonly namespace: string; readonly pvc: string };
  readonly selection: ListingSelection;
  readonly policy: IncrementalPolicy;
  /** A full backup after this many incremental ones in a row. */
  readonly fullEvery: number;
  readonly request?: IncrementalRequest;
}

/** The backup the next one builds on, with everything the plan needs. */
export interface ChosenBase extends IncrementalBase {
  readonly id: number;
}

/** Either a base to build on, or why the backup is full (in words, for the result and the report). */
export type BaseDecision = { readonly base: ChosenBase } | { readonly fullBecause: string };

/** The include/exclude set as the history keeps it with a listing: a listing only serves a backup reading the same set. */
export function selectionKey(selection: ListingSelection): string {
  return JSON.stringify({ include: [...selection.include].sort(), exclude: [...selection.exclude].sort() });
}

/**
 * The base of the volume's next backup: its newest successful backup, when that backup's listing was kept
 * for the same include/exclude set, every archive of its chain is where the history says with the size it
 * recorded, and the chain is shorter than `fullEvery` incremental backups (`--incremental` lifts that bound).
 * Anything else makes the backup full, saying why; nothing here reads an archive's content.
 */
export async function chooseIncrementalBase(history: HistoryStore | undefined, choice: IncrementalChoice): Promise<BaseDecision> {
  if (choice.request === 'full') return { fullBecause: 'a full backup was asked for' };
  if (choice.request !== 'incremental') {
    if (choice.policy === 'never') return { fullBecause: 'incremental backups are turned off (nkvm.backup.incremental is "never")' };
    if (choice.fullEvery === 0) return { fullBecause: 'every backup is full (nkvm.backup.fullEvery is 0)' };
  }
  if (!history) return { fullBecause: 'there is no history to build on' };
  const { context, namespace, pvc } = choice.target;
  const [newest] = await history.latest({ context, namespace, pvc, operation: 'backup', status: 'success', limit: 1 });
  if (!newest) return { fullBecause: 'it is the first complete backup of this volume' };
  const stored = await history.loadPodListing(newest.id);
  if (!stored) return { fullBecause: `backup #${newest.id} kept no listing of the volume to compare with` };
  if ((stored.selection ?? selectionKey({ include: [], exclude: [] })) !== selectionKey(choice.selection)) {
    return { fullBecause: `the include/exclude paths changed since backup #${newest.id}` };
  }
  let links;
  try {
    links = await resolveHistoryChain(history, newest.id);
  } catch (error) {
    if (error instanceof HistoryChainError) return { fullBecause: error.message };
    throw error;
  }
  const incrementals = links.length - 1;
  if (choice.request !== 'incremental' && incrementals >= choice.fullEvery) {
    return { fullBecause: `${incrementals} incremental backups follow the full backup #${links[0]!.id} (nkvm.backup.fullEvery is ${choice.fullEvery})` };
  }
  for (const link of links) {
    if (link.sha256 === undefined) return { fullBecause: `backup #${link.id} recorded no checksum` };
    const size = await stat(link.path).then((s) => s.size, () => undefined);
    if (size === undefined) return { fullBecause: `the archive of backup #${link.id} is missing (${link.path})` };
    if (link.sizeBytes !== undefined && size !== link.sizeBytes) {
      return { fullBecause: `the archive of backup #${link.id} has ${size} bytes where ${link.sizeBytes} were recorded` };
    }
  }
  let listing;
  try {
    listing = decodePodListing(stored.listing);
  } catch (error) {
    return { fullBecause: `the listing kept with backup #${newest.id} cannot be read (${(error as Error).message})` };
  }
  return { base: { id: newest.id, chain: links.map((l) => ({ id: l.id, sha256: l.sha256! })), listing, readLive: newest.consistency !== 'snapshot' } };
}
