import { availableParallelism } from 'node:os';
import { Transform, TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';

export interface ParallelGzipOptions {
  /** gzip level 1 to 9. */
  level: number;
  /** Compressing threads; default: the cores of this machine less one for the stream itself, at least 2. */
  workers?: number;
  /** Uncompressed bytes per gzip member. */
  blockSize?: number;
  /** Blocks handed to workers and not yet written out; this bounds memory whatever the destination's speed. */
  maxBlocksInFlight?: number;
}

const DEFAULT_BLOCK_SIZE = 1024 * 1024;

/**
 * The worker's source, run with `eval` so that the extension's and the command line's bundles need no
 * extra file next to them. Blocks whose samples do not shrink (media, archives, encrypted data) are
 * stored (level 0): deflate spends most of its time on such data for no gain.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
const SAMPLE = 32 * 1024;
function incompressible(block) {
  if (block.length < 4 * SAMPLE) return false;
  for (const at of [0, (block.length >> 1) - (SAMPLE >> 1), block.length - SAMPLE]) {
    const sample = block.subarray(at, at + SAMPLE);
    if (zlib.deflateRawSync(sample, { level: 1 }).length < SAMPLE * 0.97) return false;
  }
  return true;
}
parentPort.on('message', ({ id, block, level }) => {
  try {
    const data = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    const out = zlib.gzipSync(data, { level: incompressible(data) ? 0 : level });
    parentPort.postMessage({ id, out });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.message || e) });
  }
});
`;

interface Job {
  id: number;
  done: boolean;
  out?: Buffer;
}

/**
 * gzip on several cores: the input is cut into blocks, each compressed by a worker thread into an
 * independent gzip member, and the members are written in input order. Concatenated members are one
 * valid gzip file (RFC 1952), which `gzip -t`, `tar -tzf` and BusyBox accept.
 *
 * Backpressure: at most `maxBlocksInFlight` blocks are compressing or waiting to be read, and the
 * write callback is held until one is released, so a slow destination slows the source instead of
 * growing memory.
 */
export class ParallelGzip extends Transform {
  private readonly level: number;
  private readonly blockSize: number;
  private readonly maxInFlight: number;
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly waitingForWorker: { id: number; block: Uint8Array }[] = [];
  private readonly jobs: Job[] = [];
  private readonly byWorker = new Map<Worker, Job>();
  private current: Buffer;
  private filled = 0;
  private nextId = 0;
  private wroteMember = false;
  private slotFreed?: () => void;
  private downstreamFull = false;
  private failure?: Error;
  private finished?: () => void;
  /** Uncompressed bytes taken in. */
  bytesIn = 0;
  /** gzip bytes pushed out. */
  bytesOut = 0;

  constructor(options: ParallelGzipOptions) {
    super({ highWaterMark: 1024 * 1024 });
    if (!Number.isInteger(options.level) || options.level < 1 || options.level > 9) throw new RangeError(`gzip level must be 1 to 9, got ${options.level}`);
    this.level = options.level;
    this.blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
    const workers = Math.max(1, options.workers ?? Math.max(2, availableParallelism() - 1));
    this.maxInFlight = Math.max(1, options.maxBlocksInFlight ?? workers * 2);
    this.current = Buffer.allocUnsafeSlow(this.blockSize);
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      // A pool left idle must not keep the process alive; jobs in flight hold it through their promise.
      worker.unref();
      worker.on('message', (m: { id: number; out?: Uint8Array; error?: string }) => this.completed(worker, m));
      worker.on('error', (e) => this.fail(e));
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  /** Blocks submitted and not yet pushed downstream: never more than `maxBlocksInFlight`. */
  get blocksInFlight(): number {
    return this.jobs.length;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytesIn += chunk.length;
    this.absorb(chunk, 0, callback);
  }

  override _read(size: number): void {
    this.downstreamFull = false;
    this.drainCompleted();
    super._read(size);
  }

  override _flush(callback: TransformCallback): void {
    if (this.filled > 0 || !this.wroteMember) this.submit();
    this.finished = () => {
      this.finished = undefined;
      this.stopWorkers();
      callback(this.failure);
    };
    this.drainCompleted();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.stopWorkers();
    callback(error);
  }

  /** Copies `chunk` from `offset` into blocks, waiting for a free slot whenever a block is full. */
  private absorb(chunk: Buffer, offset: number, callback: TransformCallback): void {
    while (offset < chunk.length) {
      if (this.failure) return callback(this.failure);
      const n = Math.min(chunk.length - offset, this.blockSize - this.filled);
      chunk.copy(this.current, this.filled, offset, offset + n);
      this.filled += n;
      offset += n;
      if (this.filled === this.blockSize) {
        if (this.jobs.length >= this.maxInFlight) {
          const resumeAt = offset;
          this.slotFreed = () => {
            this.slotFreed = undefined;
            this.submit();
            this.absorb(chunk, resumeAt, callback);
          };
          return;
        }
        this.submit();
      }
    }
    callback();
  }

  private submit(): void {
    const block = new Uint8Array(this.current.buffer, 0, this.filled);
    const job: Job = { id: this.nextId++, done: false };
    this.jobs.push(job);
    this.wroteMember = true;
    this.current = Buffer.allocUnsafeSlow(this.blockSize);
    this.filled = 0;
    this.waitingForWorker.push({ id: job.id, block });
    this.dispatch();
  }

  private dispatch(): void {
    while (this.idle.length && this.waitingForWorker.length) {
      const worker = this.idle.pop()!;
      const { id, block } = this.waitingForWorker.shift()!;
      this.byWorker.set(worker, this.jobs.find((j) => j.id === id)!);
      worker.ref();
      // The block's memory moves to the worker: no copy, and the main thread keeps no reference.
      worker.postMessage({ id, block, level: this.level }, [block.buffer as ArrayBuffer]);
    }
  }

  private completed(worker: Worker, message: { id: number; out?: Uint8Array; error?: string }): void {
    const job = this.byWorker.get(worker);
    this.byWorker.delete(worker);
    worker.unref();
    this.idle.push(worker);
    if (message.error !== undefined || !job) return this.fail(new Error(`compression failed: ${message.error ?? 'a worker answered an unknown block'}`));
    job.done = true;
    job.out = Buffer.from(message.out!.buffer, message.out!.byteOffset, message.out!.byteLength);
    this.dispatch();
    this.drainCompleted();
  }

  /** Pushes finished members in input order while the reader wants more, freeing their slots. */
  private drainCompleted(): void {
    while (!this.downstreamFull && this.jobs.length && this.jobs[0].done) {
      const job = this.jobs.shift()!;
      this.bytesOut += job.out!.length;
      if (!this.push(job.out)) this.downstreamFull = true;
      job.out = undefined;
    }
    if (this.jobs.length < this.maxInFlight) this.slotFreed?.();
    if (!this.jobs.length) this.finished?.();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.stopWorkers();
    this.destroy(error);
  }

  private stopWorkers(): void {
    for (const worker of this.workers.splice(0)) void worker.terminate();
    this.idle.length = 0;
  }
}
