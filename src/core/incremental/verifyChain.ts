import type { ExpectedArchive, VerifyResult } from '../archive/verifyArchive';
import { HistoryChainError, resolveHistoryChain, type HistoryChainLink } from '../history/historyChain';
import type { HistoryRecord } from '../history/historyRecord';
import type { HistoryStore } from '../history/historyStore';
import { BrokenChainError } from './chainTree';
import { openChain } from './openChain';

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
    result = await verifyChain(await resolveHistoryChain(history, record.id), checkArchive, options);
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
  options: { signal?: AbortSignal } = {},
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
  try {
    await openChain(links, options.signal);
  } catch (error) {
    if (!(error instanceof BrokenChainError)) throw error;
    return { outcome: 'damaged', message: `The archives do not form #${target.id}'s chain: ${error.message}.`, checkedAt, links: checked };
  }
  const own = checked[checked.length - 1]!.result;
  const unrecorded = links.filter((l) => l.sha256 === undefined).map((l) => `#${l.id}`);
  const checksums = unrecorded.length ? `no checksum recorded for ${unrecorded.join(', ')}` : 'checksums match';
  const ids = links.map((l) => `#${l.id}`).join(', ');
  return {
    ...own,
    checkedAt,
    message: `${links.length} archives of the chain (${ids}) read to the end; ${checksums}; each names the ones before it.`,
    links: checked,
  };
}
