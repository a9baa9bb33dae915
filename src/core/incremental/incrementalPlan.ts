import { selectChanges, type ChangeSelection } from './changeSelection';
import { MANIFEST_FORMAT, MANIFEST_PATH, MANIFEST_VERSION, manifestPath, type ArchiveRef, type IncrementalManifest } from './incrementalManifest';
import { compareListings, type ListingChanges } from './listingChanges';
import type { PodListing } from './podListing';
import { encodePodListing, type EncodedPodListing } from './podListingCodec';

export interface IncrementalBase {
  /** Every archive a restore of the base needs, oldest (the full backup) first, ending with the base itself. */
  readonly chain: readonly ArchiveRef[];
  /** The listing the base backup recorded (decodePodListing of its stored form). */
  readonly listing: PodListing;
  /** The base read the volume itself (live), not a snapshot's temporary claim: its ctimes are the volume's. */
  readonly readLive?: boolean;
}

export interface IncrementalPlan {
  readonly changes: ListingChanges;
  readonly selection: ChangeSelection;
  readonly manifest: IncrementalManifest;
  /** The new listing in its stored form, for the history to keep as the next backup's base. */
  readonly listing: EncodedPodListing;
}

/**
 * What the next backup of a volume sends: the entries that changed since the base listing, and the
 * manifest that goes first in its archive. Refused (an Error saying so) when the volume holds a file at
 * the manifest's reserved name, which a restore would leave out: such a volume needs full backups.
 */
export function planIncrement(base: IncrementalBase, next: PodListing, createdAt = new Date(), options: { readLive?: boolean } = {}): IncrementalPlan {
  if (base.chain.length === 0) throw new Error('an incremental backup needs the chain of its base, at least the full backup');
  if (next.entries.some((e) => e.name === MANIFEST_PATH)) {
    throw new Error(`the volume holds ${MANIFEST_PATH}, the name incremental archives keep their manifest at; back this volume up in full`);
  }
  // ctime only where both backups read the volume itself (see CompareOptions); without the facts, it is compared.
  const changes = compareListings(base.listing, next, { ctime: (base.readLive ?? true) && (options.readLive ?? true) });
  const selection = selectChanges(changes, next);
  const listing = encodePodListing(next);
  const manifest: IncrementalManifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    kind: 'incremental',
    createdAt: createdAt.toISOString(),
    base: base.chain[base.chain.length - 1]!,
    chain: base.chain,
    deleted: selection.removed.map(manifestPath),
    listing: { sha256: listing.sha256, entries: next.entries.length },
    counts: {
      changed: changes.changed.length,
      added: changes.added.length,
      typeChanged: changes.typeChanged.length,
      unchanged: changes.unchanged,
      deleted: changes.deleted.length,
      sentEntries: selection.names.length,
      sentBytes: selection.sentBytes,
    },
  };
  return { changes, selection, manifest, listing };
}
