import type { ExpectedArchive, VerifyResult } from '../archive/verifyArchive';
import { HistoryChainError, resolveHistoryChain, type HistoryChainLink } from '../history/historyChain';
import type { HistoryRecord } from '../history/historyRecord';
import type { HistoryStore } from '../history/historyStore';
import { BrokenChainError } from './chainTree';
import { openChain, type OpenedChain } from './openChain';
import { decodePodListing } from './podListingCodec';
import type { PodListing } from './podListing';

/** How one archive file is checked (verifyArchive): passed in, as verifyArchive's module dispatches to this one. */
export type ArchiveCheck = (path: string, expected: ExpectedArchive, options: { signal?: AbortSignal }) => Promise<VerifyResult>;

export interface ChainVerifyResult extends VerifyResult {
  /** Each archive checked, oldest first, with its own result; the chain stops at the first broken one. */
  readonly links: readonly { readonly id: number; readonly result: VerifyResult }[];
  /** The backup whose archive or row breaks the chain, when one archive or row is to blame. */
  readonly brokenId?: number;
}

/**
 * Verifies an incremental backup as a restore needs it: every archive of its chain, from its full backup on, exists,
 * has the size and checksum the history recorded and reads to the end, and each manifest names the archives before
 * it. Saves the outcome on the backup's row, and each archive's own outcome on the rows of its bases.
 */
export async function verifyIncrementalBackup(
  history: HistoryStore,
  record: HistoryRecord,
  checkArchive: ArchiveCheck,
  options: { signal?: AbortSignal } = {},
): Promise<ChainVerifyResult> {
  let result: ChainVerifyResult;
  try {
    const stored = await history.loadPodListing(record.id);
    const finalListing = stored && { ...decodePodListing(stored.listing), sha256: stored.sha256 };
    result = await verifyChain(await resolveHistoryChain(history, record.id), checkArchive, { ...options, ...(finalListing ? { finalListing } : {}) });
  } catch (error) {
    if (!(error instanceof HistoryChainError)) throw error;
    result = { outcome: 'missing', message: error.message, checkedAt: new Date(), links: [], brokenId: error.backupId };
  }
  for (const link of result.links) {
    if (link.id === record.id) continue;
    const { checkedAt, outcome, message } = link.result;
    await history.update(link.id, { verifiedAt: checkedAt, verifyOutcome: outcome, verifyMessage: message });
  }
  await history.update(record.id, { verifiedAt: result.checkedAt, verifyOutcome: result.outcome, verifyMessage: result.message });
  return result;
}

/** Checks the archives of a chain (oldest first, the backup verified last), then the links between them. */
export async function verifyChain(
  links: readonly HistoryChainLink[],
  checkArchive: ArchiveCheck,
  options: { signal?: AbortSignal; finalListing?: PodListing & { readonly sha256: string } } = {},
): Promise<ChainVerifyResult> {
  const checkedAt = new Date();
  const target = links[links.length - 1]!;
  const checked: { id: number; result: VerifyResult }[] = [];
  for (const link of links) {
    const result = await checkArchive(link.path, { sha256: link.sha256, sizeBytes: link.sizeBytes }, options);
    checked.push({ id: link.id, result });
    if (result.outcome !== 'ok') {
      const message =
        link === target
          ? result.message
          : `Backup #${link.id} (${link.path}), which #${target.id} restores through: ${result.message} #${target.id} cannot be restored ` +
            'until that archive is put back as it was; a later full backup does not need it.';
      return { ...result, checkedAt, message, links: checked, brokenId: link.id };
    }
  }
  let opened: OpenedChain;
  try {
    opened = await openChain(links, options.signal);
  } catch (error) {
    if (!(error instanceof BrokenChainError)) throw error;
    return { outcome: 'damaged', message: `The archives do not form #${target.id}'s chain: ${error.message}.`, checkedAt, links: checked };
  }
  const listingProblem = options.finalListing && finalListingProblem(opened, options.finalListing);
  if (listingProblem) {
    return { outcome: 'damaged', message: `The chain of #${target.id} does not restore the volume its backup listed: ${listingProblem}.`, checkedAt, links: checked, brokenId: target.id };
  }
  const own = checked[checked.length - 1]!.result;
  const unrecorded = links.filter((l) => l.sha256 === undefined).map((l) => `#${l.id}`);
  const checksums = unrecorded.length ? `no checksum recorded for ${unrecorded.join(', ')}` : 'checksums match';
  const ids = links.map((l) => `#${l.id}`).join(', ');
  return {
    ...own,
    checkedAt,
    message:
      `${links.length} archives of the chain (${ids}) read to the end; ${checksums}; each names the ones before it` +
      `${options.finalListing ? `; together they hold the ${options.finalListing.entries.length} entries the backup listed` : ''}.`,
    links: checked,
  };
}

const SHOWN = 3;

/**
 * Whether the chain's final tree is the volume the backup listed: the manifest names that listing's digest, and
 * the tree holds exactly its paths (fifos, sockets and devices are never archived; the root is left out).
 */
function finalListingProblem(chain: OpenedChain, listing: PodListing & { readonly sha256: string }): string | undefined {
  const manifest = chain.archives[chain.archives.length - 1]?.manifest;
  if (manifest && manifest.listing.sha256 !== listing.sha256) {
    return `the manifest names listing ${manifest.listing.sha256.slice(0, 12)}..., the history keeps ${listing.sha256.slice(0, 12)}...`;
  }
  const listed = new Set(listing.entries.filter((e) => e.type !== 'other' && e.name !== '.').map((e) => e.name));
  const tree = new Set([...chain.tree.sources.keys()].filter((p) => p !== ''));
  const missing = [...listed].filter((p) => !tree.has(p));
  const extra = [...tree].filter((p) => !listed.has(p));
  if (!missing.length && !extra.length) return undefined;
  const names = (paths: string[]) => paths.slice(0, SHOWN).map((p) => JSON.stringify(Buffer.from(p, 'latin1').toString('utf8'))).join(', ') + (paths.length > SHOWN ? ', ...' : '');
  return [
    missing.length ? `${missing.length} listed ${missing.length === 1 ? 'path is' : 'paths are'} in no archive (${names(missing)})` : '',
    extra.length ? `${extra.length} ${extra.length === 1 ? 'path' : 'paths'} that the backup did not list would be restored (${names(extra)})` : '',
  ]
    .filter(Boolean)
    .join('; ');
}
