import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { ParallelGzip } from '../../../src/core/backup/localCompression';

const MiB = 1024 * 1024;

/** Text that gzip shrinks about 5:1, like application logs. */
function logText(bytes: number): Buffer {
  const lines: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const line = `2026-11-27T10:${String(i % 60).padStart(2, '0')}:00Z INFO [orders-${i % 7}] request=${(i * 2654435761 >>> 0).toString(16)} status=200 duration_ms=${i % 900}\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

async function compress(input: Buffer, gzip: ParallelGzip): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(Readable.from([input.subarray(0, 100), input.subarray(100)]), gzip, new Writable({ write: (c, _e, cb) => (out.push(c), cb()) }));
  return Buffer.concat(out);
}

describe('local gzip on several cores', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'nkvm-gzip-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes members in input order that gzip -t accepts and gunzip turns back into the exact input', async () => {
    const input = Buffer.concat([logText(5 * MiB + 123), randomBytes(3 * MiB), logText(2 * MiB)]);
    const gzip = new ParallelGzip({ level: 6, workers: 3, blockSize: 256 * 1024 });
    const output = await compress(input, gzip);
    assert.equal(gzip.bytesOut, output.length);
    const file = join(dir, 'mixed.gz');
    writeFileSync(file, output);
    execFileSync('gzip', ['-t', file]);
    const restored = execFileSync('gzip', ['-dc', file], { maxBuffer: 64 * MiB });
    assert.equal(createHash('sha256').update(restored).digest('hex'), createHash('sha256').update(input).digest('hex'));
    assert.ok(output.length < input.length * 0.5, `text should shrink: ${output.length} of ${input.length}`);
  });

  it('stores random data instead of deflating it, and still shrinks text at the chosen level', async () => {
    const random = randomBytes(4 * MiB);
    const stored = await compress(random, new ParallelGzip({ level: 9, workers: 2 }));
    assert.ok(stored.length < random.length * 1.001, `random data grows by at most the framing: ${stored.length}`);
    assert.deepEqual(gunzipSync(stored), random);
    const text = logText(4 * MiB);
    const fast = await compress(text, new ParallelGzip({ level: 1, workers: 2 }));
    const small = await compress(text, new ParallelGzip({ level: 9, workers: 2 }));
    assert.ok(small.length < fast.length, `level 9 (${small.length}) is smaller than level 1 (${fast.length})`);
  });

  it('makes an empty input a valid empty gzip file', async () => {
    const output = await compress(Buffer.alloc(0), new ParallelGzip({ level: 6, workers: 1 }));
    assert.equal(gunzipSync(output).length, 0);
  });

  it('keeps memory bounded when the destination is slow: the source is held back instead of buffered', async () => {
    const blockSize = 1024 * 1024;
    const gzip = new ParallelGzip({ level: 1, workers: 2, blockSize, maxBlocksInFlight: 4 });
    const chunk = randomBytes(256 * 1024);
    const total = 96 * MiB;
    let produced = 0;
    let consumed = 0;
    let worstAhead = 0;
    let worstInFlight = 0;
    const source = new Readable({
      read() {
        if (produced >= total) return this.push(null);
        produced += chunk.length;
        this.push(chunk);
      },
    });
    // About 60 MB/s: far slower than the workers, like a network share.
    const slowDisk = new Writable({
      highWaterMark: 1024 * 1024,
      write(c: Buffer, _e, cb) {
        consumed += c.length;
        worstAhead = Math.max(worstAhead, produced - consumed);
        worstInFlight = Math.max(worstInFlight, gzip.blocksInFlight);
        setTimeout(cb, (c.length / (60 * MiB)) * 1000);
      },
    });
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 20);
    try {
      await pipeline(source, gzip, slowDisk);
    } finally {
      clearInterval(sampler);
    }
    assert.ok(consumed >= total, 'everything arrived');
    assert.ok(worstInFlight <= 5, `at most the bound (+ the last block) in flight, saw ${worstInFlight}`);
    // Readable and writable buffers (1 MiB each, three streams) plus the blocks in flight, far below the 96 MiB sent.
    assert.ok(worstAhead < 16 * MiB, `the source ran ${(worstAhead / MiB).toFixed(1)} MiB ahead of the disk`);
    assert.ok(peak - before < 48 * MiB, `buffers grew by ${((peak - before) / MiB).toFixed(1)} MiB`);
  });

  it('stops its workers when destroyed mid-stream, so a cancelled backup leaves no thread running', async () => {
    const threads = (): number => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
    const before = threads();
    const gzip = new ParallelGzip({ level: 6, workers: 3 });
    gzip.write(randomBytes(3 * MiB));
    assert.ok(threads() >= before + 3, 'the workers run as threads');
    gzip.destroy();
    const deadline = Date.now() + 5000;
    while (threads() > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(threads(), before);
  });
});
