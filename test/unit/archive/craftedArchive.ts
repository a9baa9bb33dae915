import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import { pack, type Headers } from 'tar-stream';

export interface CraftedEntry {
  readonly header: Headers;
  readonly content?: string | Buffer;
}

/** Real tar bytes from tar-stream's packer, for headers no well-behaved `tar` would write. */
export async function tarBytes(entries: readonly CraftedEntry[]): Promise<Buffer> {
  const packer = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of packer) chunks.push(chunk as Buffer);
  })();
  for (const entry of entries) {
    await new Promise<void>((resolve, reject) => {
      const content = entry.content === undefined ? undefined : Buffer.from(entry.content);
      const header = { mtime: new Date('2026-01-02T03:04:05Z'), mode: 0o644, ...entry.header, size: content?.length ?? 0 };
      packer.entry(header, content ?? Buffer.alloc(0), (error) => (error ? reject(error) : resolve()));
    });
  }
  packer.finalize();
  await collected;
  return Buffer.concat(chunks);
}

export async function writeTarGz(file: string, entries: readonly CraftedEntry[]): Promise<void> {
  const gzip = createGzip();
  gzip.end(await tarBytes(entries));
  await pipeline(gzip, createWriteStream(file));
}

/** A `.tar.gz` of a folder made by the system tar, the way the helper pod runs it (`tar czf - .`). */
export function systemTarGz(folder: string, file: string): void {
  execFileSync('tar', ['czf', file, '-C', folder, '.']);
}

export function gzipFile(bytes: Buffer): Buffer {
  return gzipSync(bytes);
}
