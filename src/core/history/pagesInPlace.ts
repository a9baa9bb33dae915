import { open } from 'node:fs/promises';
import * as path from 'node:path';
import { DATABASE_FILE_MODE, fingerprintOfHandle, type AtomicWriteOptions } from './databaseFile';
import { encodeRollbackJournal, restorePages, rollbackJournalPath, type RollbackContents } from './rollbackJournal';
import { changedPages, sqlitePageSize } from './sqlitePages';
import { syncFolder } from './syncFolder';
import { unlinkIfPresent } from './unlinkIfPresent';

/** Past this share of changed bytes, rewriting the whole file costs about the same and is simpler. */
const MAX_CHANGED_SHARE = 0.5;

/**
 * Saves a new image of the database by overwriting only the pages that differ from `previous`,
 * which must be exactly what the file held at `previousFingerprint`. Appending a record to a
 * large history then writes a few pages instead of the whole file.
 *
 * Crash safety comes from a rollback journal, as in SQLite's own DELETE journal mode: the old
 * pages are saved and synced first, then the new pages are written (the header page last, which
 * lock-free readers rely on) and synced, and removing the journal commits. Returns the new
 * fingerprint, or undefined when this file cannot be saved this way (a different version on disk,
 * a page size change, most pages changed); the caller then rewrites the whole file.
 */
export async function writeChangedPagesInPlace(
  target: string,
  previous: Uint8Array,
  previousFingerprint: string,
  next: Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<string | undefined> {
  const pageSize = sqlitePageSize(next);
  if (pageSize === undefined || sqlitePageSize(previous) !== pageSize || previous.length % pageSize !== 0) {
    return undefined;
  }
  const pages = changedPages(previous, next, pageSize);
  if (pages.length * pageSize > next.length * MAX_CHANGED_SHARE) {
    return undefined;
  }
  const handle = await open(target, 'r+');
  try {
    if ((await fingerprintOfHandle(handle)) !== previousFingerprint) {
      return undefined;
    }
    const journal: RollbackContents = {
      pageSize,
      originalSize: previous.length,
      pages: pages
        .map((page) => page * pageSize)
        .filter((offset) => offset < previous.length)
        .map((offset) => ({ offset, bytes: previous.subarray(offset, offset + pageSize) })),
    };
    const journalPath = rollbackJournalPath(target);
    await writeJournal(journalPath, encodeRollbackJournal(journal));
    try {
      await options.beforeCommit?.();
      // The header page goes last: a reader that sees the new header also sees every other new page.
      for (const page of [...pages.filter((page) => page !== 0), ...pages.filter((page) => page === 0)]) {
        const offset = page * pageSize;
        await handle.write(next, offset, Math.min(pageSize, next.length - offset), offset);
      }
      if (next.length < previous.length) {
        await handle.truncate(next.length);
      }
      await handle.sync();
    } catch (error) {
      await putBackOrLeaveForRecovery(target, journalPath, journal);
      throw error;
    }
    // Removing the journal is the commit; syncing the folder makes it survive a power cut.
    await unlinkIfPresent(journalPath);
    await syncFolder(path.dirname(target));
    return await fingerprintOfHandle(handle);
  } finally {
    await handle.close();
  }
}

async function writeJournal(journalPath: string, bytes: Buffer): Promise<void> {
  try {
    const handle = await open(journalPath, 'w', DATABASE_FILE_MODE);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await syncFolder(path.dirname(journalPath));
  } catch (error) {
    await unlinkIfPresent(journalPath); // Nothing in the database was touched yet.
    throw error;
  }
}

/**
 * Undoes a failed write at once. When even that fails (the disk is gone), the journal stays
 * and the next writer, or the next start, puts the pages back before reading.
 */
async function putBackOrLeaveForRecovery(target: string, journalPath: string, journal: RollbackContents): Promise<void> {
  try {
    await restorePages(target, journal);
    await unlinkIfPresent(journalPath);
  } catch {
    // Left for rollBackInterruptedWrite, which every writer runs under the lock before reading.
  }
}
