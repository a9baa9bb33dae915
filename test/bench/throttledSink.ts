import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';

/** Idle time that may be made up later: timers fire a millisecond or more late, which would otherwise cap small chunks far below the rate. */
const CATCH_UP_MS = 50;

/**
 * A destination that accepts at most `bytesPerSecond` (0: as fast as it is given), hashing what it
 * gets like the archive writer does. Its buffer is the archive writer's 1 MiB, so `write()` starts
 * returning false as soon as a slow disk or share would.
 */
export class ThrottledSink extends Writable {
  bytes = 0;
  private readonly hash = createHash('sha256');
  private dueAt = 0;

  constructor(private readonly bytesPerSecond: number) {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (!this.bytesPerSecond) return callback();
    const now = performance.now();
    this.dueAt = Math.max(now - CATCH_UP_MS, this.dueAt) + (chunk.length / this.bytesPerSecond) * 1000;
    if (this.dueAt <= now) callback();
    else setTimeout(callback, this.dueAt - now);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}
