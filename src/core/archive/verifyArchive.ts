import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { errnoCode } from '../history/errnoCode';
import type { HistoryRecord, VerifyOutcome } from '../history/historyRecord';
import type { HistoryStore } from '../history/historyStore';
import { ArchiveDamagedError } from './archiveErrors';
import { scanArchive } from './archiveScan';
import { verifyIncrementalBackup } from '../incremental/verifyChain';

export interface ExpectedArchive {
  /** Lower-case hex, as the backup recorded it. */
  readonly sha256?: string;
  readonly sizeBytes?: number;
}

export interface VerifyResult {
  readonly outcome: VerifyOutcome;
  /** One sentence for the tree's tooltip and the command line. */
  readonly message: string;
  readonly checkedAt: Date;
  readonly sha256?: string;
  readonly sizeBytes?: number;
  readonly entries?: number;
}

/**
 * Reads the whole archive: the gzip stream and the tar structure to the end-of-archive blocks,
 * and the sha256 of the file. The checksum covers every byte even when the structure breaks early.
 */
export async function verifyArchive(archivePath: string, expected: ExpectedArchive, options: { signal?: AbortSignal } = {}): Promise<VerifyResult> {
  const checkedAt = new Date();
  let size: number;
  try {
    size = (await stat(archivePath)).size;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { outcome: 'missing', message: `The archive ${archivePath} does not exist.`, checkedAt };
    throw error;
  }
  if (expected.sizeBytes !== undefined && size !== expected.sizeBytes) {
    return {
      outcome: 'size-differs',
      message: `The archive is ${size} bytes; the backup wrote ${expected.sizeBytes}.`,
      checkedAt,
      sizeBytes: size,
    };
  }

  const hash = createHash('sha256');
  let hashed = 0;
  let damage: ArchiveDamagedError | undefined;
  let entries: number | undefined;
  let endMarker = true;
  let lastEntry: string | undefined;
  try {
    const scan = await scanArchive(archivePath, () => undefined, {
      signal: options.signal,
      onCompressedChunk: (chunk) => {
        hash.update(chunk);
        hashed += chunk.length;
      },
    });
    entries = scan.entries;
    endMarker = scan.endMarker;
    lastEntry = scan.lastEntry;
  } catch (error) {
    if (!(error instanceof ArchiveDamagedError)) throw error;
    damage = error;
  }
  if (hashed < size) {
    // The parse stopped at the damage; the checksum still needs the rest of the file.
    for await (const chunk of createReadStream(archivePath, { start: hashed, signal: options.signal })) hash.update(chunk as Buffer);
  }
  const sha256 = hash.digest('hex');
  const checksumDiffers = expected.sha256 !== undefined && expected.sha256.toLowerCase() !== sha256;
  const found = { checkedAt, sha256, sizeBytes: size, ...(entries !== undefined ? { entries } : {}) };

  if (damage !== undefined || !endMarker) {
    const where =
      damage !== undefined
        ? `${damage.layer === 'gzip' ? 'damaged gzip data' : 'damaged tar structure'} ${damage.afterEntry === undefined ? 'before the first entry' : `after entry ${damage.afterEntry}`} (${damage.detail})`
        : `the tar stops without its end-of-archive blocks ${lastEntry === undefined ? 'before the first entry' : `after entry ${lastEntry}`}, so it was cut short`;
    return { outcome: 'damaged', message: `The archive is damaged: ${where}${checksumDiffers ? '; its checksum differs too' : ''}.`, ...found };
  }
  if (checksumDiffers) {
    return { outcome: 'checksum-differs', message: `The archive reads to the end but its sha256 is ${sha256}, not ${expected.sha256}.`, ...found };
  }
  return {
    outcome: 'ok',
    message: `${entries} entries read to the end${expected.sha256 !== undefined ? '; checksum matches' : '; no checksum recorded to compare'}.`,
    ...found,
  };
}

/**
 * Verifies a backup's archive against what its row recorded, and saves the outcome on the row. An incremental
 * backup is verified with every archive of its chain, since a restore needs them all.
 */
export async function verifyBackup(history: HistoryStore, record: HistoryRecord, options: { signal?: AbortSignal } = {}): Promise<VerifyResult> {
  if (record.kind === 'incremental' && record.backupPath !== null && record.prunedAt === null) {
    return verifyIncrementalBackup(history, record, verifyArchive, options);
  }
  const result =
    record.backupPath === null || record.prunedAt !== null
      ? { outcome: 'missing' as const, message: record.prunedAt !== null ? `The archive was deleted by retention at ${record.prunedAt}.` : 'No archive was written for this backup.', checkedAt: new Date() }
      : await verifyArchive(record.backupPath, { sha256: record.checksum ?? undefined, sizeBytes: record.sizeBytes ?? undefined }, options);
  await history.update(record.id, { verifiedAt: result.checkedAt, verifyOutcome: result.outcome, verifyMessage: result.message });
  return result;
}
