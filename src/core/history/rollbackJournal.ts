import { createHash } from 'node:crypto';
import { lstat, open, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { errnoCode } from './errnoCode';
import { syncFolder } from './syncFolder';
import { unlinkIfPresent } from './unlinkIfPresent';

/**
 * The original contents of the pages a writer is about to overwrite in place, kept next to the
 * database until the write is complete. It is written and synced before the first page changes,
 * so after a crash it either fails its checksum (nothing was changed yet) or puts every page back.
 *
 * Layout: magic, page size (u32), original file size (u64), page count (u32), then per page its
 * offset (u64), length (u32) and bytes, then a SHA-256 of everything before it.
 */
const MAGIC = Buffer.from('NKVM-ROLLBACK-1\n', 'latin1');
const HEADER_BYTES = MAGIC.length + 4 + 8 + 4;
const DIGEST_BYTES = 32;

export function rollbackJournalPath(databasePath: string): string {
  return `${databasePath}.rollback-journal`;
}

export async function hasRollbackJournal(databasePath: string): Promise<boolean> {
  try {
    await lstat(rollbackJournalPath(databasePath));
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      return false;
    }
    throw error;
  }
}

export interface SavedPage {
  readonly offset: number;
  readonly bytes: Uint8Array;
}

export interface RollbackContents {
  readonly pageSize: number;
  readonly originalSize: number;
  readonly pages: readonly SavedPage[];
}

export function encodeRollbackJournal(contents: RollbackContents): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(contents.pageSize, MAGIC.length);
  header.writeBigUInt64BE(BigInt(contents.originalSize), MAGIC.length + 4);
  header.writeUInt32BE(contents.pages.length, MAGIC.length + 12);
  const parts: Buffer[] = [header];
  for (const page of contents.pages) {
    const position = Buffer.alloc(12);
    position.writeBigUInt64BE(BigInt(page.offset), 0);
    position.writeUInt32BE(page.bytes.length, 8);
    parts.push(position, Buffer.from(page.bytes.buffer, page.bytes.byteOffset, page.bytes.byteLength));
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

/** The journal's contents, or undefined when it is incomplete or damaged (then nothing was overwritten). */
export function decodeRollbackJournal(journal: Buffer): RollbackContents | undefined {
  if (journal.length < HEADER_BYTES + DIGEST_BYTES || !journal.subarray(0, MAGIC.length).equals(MAGIC)) {
    return undefined;
  }
  const body = journal.subarray(0, journal.length - DIGEST_BYTES);
  if (!createHash('sha256').update(body).digest().equals(journal.subarray(body.length))) {
    return undefined;
  }
  const pageSize = body.readUInt32BE(MAGIC.length);
  const originalSize = Number(body.readBigUInt64BE(MAGIC.length + 4));
  const count = body.readUInt32BE(MAGIC.length + 12);
  const pages: SavedPage[] = [];
  let at = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (at + 12 > body.length) {
      return undefined;
    }
    const offset = Number(body.readBigUInt64BE(at));
    const length = body.readUInt32BE(at + 8);
    at += 12;
    if (at + length > body.length) {
      return undefined;
    }
    pages.push({ offset, bytes: body.subarray(at, at + length) });
    at += length;
  }
  return at === body.length ? { pageSize, originalSize, pages } : undefined;
}

export type RollbackOutcome = 'none' | 'discarded' | 'rolled-back';

/**
 * Finishes what a writer that crashed left behind: puts the saved pages back and restores the
 * original size, or drops a journal that never became complete. Only safe under the lock.
 */
export async function rollBackInterruptedWrite(databasePath: string): Promise<RollbackOutcome> {
  const journalPath = rollbackJournalPath(databasePath);
  let journal: Buffer;
  try {
    journal = await readFile(journalPath);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      return 'none';
    }
    throw error;
  }
  const contents = decodeRollbackJournal(journal);
  let restored = false;
  if (contents !== undefined) {
    try {
      await restorePages(databasePath, contents);
      restored = true;
    } catch (error) {
      // Someone deleted or moved the database: there is nothing left to put the pages back into.
      if (errnoCode(error) !== 'ENOENT') {
        throw error;
      }
    }
  }
  await unlinkIfPresent(journalPath);
  await syncFolder(path.dirname(databasePath));
  return restored ? 'rolled-back' : 'discarded';
}

export async function restorePages(databasePath: string, contents: RollbackContents): Promise<void> {
  const handle = await open(databasePath, 'r+');
  try {
    for (const page of contents.pages) {
      await handle.write(page.bytes, 0, page.bytes.length, page.offset);
    }
    await handle.truncate(contents.originalSize);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
