import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const RANDOM_FILE_BYTES = 8_000_000;
const TEXT_FILE_BYTES = 4_000_000;

export interface BenchVolumeContents {
  files: number;
  bytes: number;
}

export interface BenchFileSizes {
  /** Size of each incompressible file; default 8 MB. */
  randomFileBytes?: number;
  /** Size of each log file; default 4 MB. */
  textFileBytes?: number;
}

/**
 * Fills a volume folder with `totalBytes`: half incompressible (like media or already compressed
 * data), half log-like text, in files of a few MB. Both halves matter: gzip is slower on text, and
 * random data makes the archive nearly as large as the volume. Smaller `fileSizes` give more files,
 * where per-file costs (tar headers, a snapshot's copy) show.
 */
export async function writeBenchVolume(root: string, totalBytes: number, fileSizes: BenchFileSizes = {}): Promise<BenchVolumeContents> {
  const { randomFileBytes = RANDOM_FILE_BYTES, textFileBytes = TEXT_FILE_BYTES } = fileSizes;
  const randomBytesTotal = Math.floor(totalBytes / 2);
  const random = await writeFiles(join(root, 'media'), 'clip', 'bin', randomBytesTotal, randomFileBytes, (size) => randomBytes(size));
  const lines = new LogLines(1);
  const text = await writeFiles(join(root, 'logs'), 'app', 'log', totalBytes - randomBytesTotal, textFileBytes, (size) => lines.fill(size));
  return { files: random.files + text.files, bytes: random.bytes + text.bytes };
}

async function writeFiles(dir: string, stem: string, ext: string, total: number, fileSize: number, content: (size: number) => Buffer): Promise<BenchVolumeContents> {
  await mkdir(dir, { recursive: true });
  let written = 0;
  let files = 0;
  while (written < total) {
    const size = Math.min(fileSize, total - written);
    await writeFile(join(dir, `${stem}-${String(files).padStart(4, '0')}.${ext}`), content(size));
    written += size;
    files++;
  }
  return { files, bytes: written };
}

/** Deterministic application-log lines: repetitive structure with varying ids, so gzip gets about 4:1, not 100:1. */
class LogLines {
  private state: number;
  private clock = Date.parse('2026-11-27T00:00:00.000Z');

  constructor(seed: number) {
    this.state = seed * 2654435761;
  }

  fill(size: number): Buffer {
    const parts: string[] = [];
    let length = 0;
    while (length < size) {
      const line = this.line();
      parts.push(line);
      length += line.length;
    }
    return Buffer.from(parts.join(''), 'latin1').subarray(0, size);
  }

  private line(): string {
    this.clock += this.next() % 50;
    const level = ['INFO ', 'INFO ', 'INFO ', 'DEBUG', 'WARN ', 'ERROR'][this.next() % 6];
    const service = ['orders', 'checkout', 'catalog', 'payments'][this.next() % 4];
    const status = [200, 200, 200, 201, 204, 304, 404, 500][this.next() % 8];
    const requestId = (this.next() >>> 0).toString(16).padStart(8, '0');
    return `${new Date(this.clock).toISOString()} ${level} [${service}-${this.next() % 8}] request=${requestId} method=GET path=/api/v1/${service}/${this.next() % 100_000} status=${status} duration_ms=${this.next() % 900} user=user-${this.next() % 5000}\n`;
  }

  private next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
}
