import { createHash, Hash } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { Writable } from 'node:stream';
import { currentProcessOwner } from '../liveness/processOwner';

const WRITE_BATCH_BYTES = 1024 * 1024;

/** The sidecar naming the process that writes `<final>.partial`, so a later run knows when it died. */
export function partialOwnerPath(partialPath: string): string {
  return `${partialPath}.owner`;
}

/**
 * An archive being written: bytes go to `<final>.partial` while their sha256 and count are computed.
 * Only `commit()` gives it the final name; `discard()` removes it, so a failed backup leaves nothing.
 * A process killed meanwhile cannot clean up: `<final>.partial.owner`, written first, lets the next
 * run (removeAbandonedPartials) tell its leftovers from the partial files of a backup still running.
 */
export class PartialArchive {
  private readonly hash?: Hash;
  private bytesWritten = 0;
  private handle?: fs.FileHandle;
  readonly partialPath: string;

  private constructor(
    readonly finalPath: string,
    hashed: boolean,
  ) {
    this.partialPath = `${finalPath}.partial`;
    if (hashed) this.hash = createHash('sha256');
  }

  /**
   * Creates the partial file exclusively (mode 0600); fails if the final name is already taken. `hashed: false`
   * for a file whose bytes are checked otherwise (a gzip'd part of a backup): `close()` then ends it, not `finish()`.
   */
  static async create(finalPath: string, options: { hashed?: boolean } = {}): Promise<PartialArchive> {
    const archive = new PartialArchive(finalPath, options.hashed ?? true);
    try {
      await fs.access(finalPath);
      throw Object.assign(new Error(`${finalPath} already exists`), { code: 'EEXIST' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const ownerPath = partialOwnerPath(archive.partialPath);
    const owner = { ...currentProcessOwner(), createdAt: new Date().toISOString() };
    await fs.writeFile(ownerPath, JSON.stringify(owner), { flag: 'wx', mode: 0o600 });
    try {
      archive.handle = await fs.open(archive.partialPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    } catch (e) {
      await fs.rm(ownerPath, { force: true });
      throw e;
    }
    return archive;
  }

  get size(): number {
    return this.bytesWritten;
  }

  /** Writes bytes that go before the stream (an incremental archive's manifest), hashed and counted like it. */
  async append(bytes: Buffer): Promise<void> {
    this.hash?.update(bytes);
    this.bytesWritten += bytes.length;
    await this.handle!.write(bytes);
  }

  /**
   * A stream that writes, hashes and counts; its `write()` returns false while the disk is behind. Small chunks
   * (a WebSocket message each) are gathered into writes of about WRITE_BATCH_BYTES: a write call per chunk cost
   * more CPU than hashing them.
   */
  writable(): Writable {
    const handle = this.handle!;
    let batch: Buffer[] = [];
    let batched = 0;
    const flush = (callback: (error?: Error | null) => void): void => {
      const buffers = batch;
      batch = [];
      batched = 0;
      if (!buffers.length) return callback();
      handle.writev(buffers).then(() => callback(), callback);
    };
    return new Writable({
      highWaterMark: 1024 * 1024,
      write: (chunk: Buffer, _enc, callback) => {
        this.hash?.update(chunk);
        this.bytesWritten += chunk.length;
        batch.push(chunk);
        batched += chunk.length;
        if (batched >= WRITE_BATCH_BYTES) flush(callback);
        else callback();
      },
      final: (callback) => flush(callback),
      destroy: (_error, callback) => {
        batch = [];
        callback(_error);
      },
    });
  }

  /** Flushes to disk and returns the sha256 of everything written. */
  async finish(): Promise<{ sha256: string; bytes: number }> {
    if (!this.hash) throw new Error(`${this.partialPath} is not hashed: close() it`);
    await this.close();
    return { sha256: this.hash.digest('hex'), bytes: this.bytesWritten };
  }

  /** Flushes to disk and closes the file; returns the bytes written. */
  async close(): Promise<number> {
    await this.handle!.sync();
    await this.handle!.close();
    this.handle = undefined;
    return this.bytesWritten;
  }

  async commit(): Promise<void> {
    await fs.rename(this.partialPath, this.finalPath);
    // A crash before this line leaves only the sidecar, which the next run removes as well.
    await fs.rm(partialOwnerPath(this.partialPath), { force: true });
  }

  /** Removes the partial file; never throws, since it runs on failure paths. */
  async discard(): Promise<void> {
    try {
      await this.handle?.close();
    } catch {
      /* already closed */
    }
    this.handle = undefined;
    await fs.rm(this.partialPath, { force: true }).catch(() => undefined);
    await fs.rm(partialOwnerPath(this.partialPath), { force: true }).catch(() => undefined);
  }
}
