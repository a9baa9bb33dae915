import { Writable } from 'node:stream';

/** The most of a hook's stdout or stderr that is kept: the end, where errors usually are. */
export const HOOK_OUTPUT_LIMIT = 4096;

/** Keeps only the last `limit` bytes written, and how many came before them. */
export class OutputTail {
  private chunks: Buffer[] = [];
  private kept = 0;
  private total = 0;

  constructor(private readonly limit = HOOK_OUTPUT_LIMIT) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.kept - (this.chunks[0]?.length ?? 0) >= this.limit) this.kept -= this.chunks.shift()!.length;
  }

  /** A sink for execInPod's stdout; never applies backpressure, memory stays bounded. */
  writable(): Writable {
    return new Writable({ write: (chunk: Buffer, _enc, done) => (this.push(chunk), done()) });
  }

  /** Bytes dropped from the front. */
  get cutBytes(): number {
    return this.total - Math.min(this.total, this.limit);
  }

  /** The kept text; a character split by the cut is dropped rather than shown as garbage. */
  text(): string {
    let tail = Buffer.concat(this.chunks);
    tail = tail.subarray(Math.max(0, tail.length - this.limit));
    let start = 0;
    // UTF-8 continuation bytes (10xxxxxx) at the front belong to a character that was cut.
    if (this.cutBytes > 0) while (start < Math.min(3, tail.length) && (tail[start]! & 0xc0) === 0x80) start++;
    return tail.subarray(start).toString('utf8');
  }
}
