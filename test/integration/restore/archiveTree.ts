import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';

/**
 * Each entry of a .tar.gz as one comparable line: type, permission bits, size, link target and the
 * sha256 of a file's contents. The root entry `./` is left out: its mode is the mount point's.
 */
export async function archiveTree(path: string): Promise<string[]> {
  const lines: string[] = [];
  const parser = extract();
  parser.on('entry', (header, body, next) => {
    const name = header.name.replace(/^\.\//, '').replace(/\/$/, '');
    const hash = createHash('sha256');
    body.on('data', (c: Buffer) => hash.update(c));
    body.on('end', () => {
      if (name !== '' && name !== '.') {
        const mode = ((header.mode ?? 0) & 0o7777).toString(8).padStart(4, '0');
        const what = header.type === 'file' ? `${header.size} ${hash.digest('hex')}` : header.type === 'symlink' || header.type === 'link' ? `-> ${header.linkname}` : '';
        lines.push(`${name} ${header.type} ${header.type === 'symlink' ? '' : mode} ${what}`.trimEnd());
      }
      next();
    });
  });
  await pipeline(createReadStream(path), createGunzip(), parser);
  return lines.sort();
}
