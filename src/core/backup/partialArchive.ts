import { createHash, Hash } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { Writable } from 'node:stream';

/**
 * An archive being written: bytes go to `<final>.partial` while their sha256 and count are computed.
 * Only `commit()` gives it the final name; `discard()` removes it, so a failed backup leaves nothing.
 */
export class PartialArchive {
  private readonly hash: Hash = createHash('sha256');
  private bytesWritten = 0;
  private handle?: fs.FileHandle;
  readonly partialPath: string;

  private constructor(readonly finalPath: string) {
    this.partialPath = `${finalPath}.partial`;
  }

  /** Creates the partial file exclusively (mode 0600); fails if the final name is already taken. */
  static async create(finalPath: string): Promise<PartialArchive> {
    const archive = new PartialArchive(finalPath);
    try {
      await fs.access(finalPath);
      throw Object.assign(new Error(`${finalPath} already exists`), { code: 'EEXIST' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    archive.handle = await fs.open(archive.partialPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    return archive;
  }

  get size(): number {
    return this.bytesWritten;
  }

  /** A stream that writes, hashes and counts; its `write()` returns false while the disk is behind. */
  writable(): Writable {
    const handle = this.handle!;
    return new Writable({
      highWaterMark: 1024 * 1024,
      write: (chunk: Buffer, _enc, callback) => {
        this.hash.update(chunk);
        this.bytesWritten += chunk.length;
        handle.write(chunk).then(() => callback(), callback);
      },
      writev: (chunks, callback) => {
        const buffers = chunks.map((c) => c.chunk as Buffer);
        for (const b of buffers) {
          this.hash.update(b);
          this.bytesWritten += b.length;
        }
        handle.writev(buffers).then(() => callback(), callback);
      },
    });
  }

  /** Flushes to disk and returns the sha256 of everything written. */
  async finish(): Promise<{ sha256: string; bytes: number }> {
    await this.handle!.sync();
    await this.handle!.close();
    this.handle = undefined;
    return { sha256: this.hash.digest('hex'), bytes: this.bytesWritten };
  }

  async commit(): Promise<void> {
    await fs.rename(this.partialPath, this.finalPath);
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
  }
}
