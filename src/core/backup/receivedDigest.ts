import { createHash } from 'node:crypto';
import { Transform, TransformCallback } from 'node:stream';

/**
 * Hashes and counts the bytes exactly as they arrive from the pod, before anything here changes them
 * (local compression), so they can be checked against the pod's own sha256 of what it sent.
 */
export class ReceivedDigest extends Transform {
  private readonly hash = createHash('sha256');
  bytes = 0;

  constructor() {
    super({ highWaterMark: 1024 * 1024 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  /** The sha256 of everything received; call once, after the stream has ended. */
  digest(): string {
    return this.hash.digest('hex');
  }
}
