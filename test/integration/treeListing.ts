import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Entries of a folder as `tar -tzf` would list an archive of it made with `-C dir .`: sorted, folders with a trailing slash. */
export function folderEntries(dir: string): string[] {
  const out = execFileSync('find', ['.', '-mindepth', '1', '(', '-type', 'd', '-printf', '%p/\\n', ')', '-o', '-printf', '%p\\n'], { cwd: dir, encoding: 'utf8' });
  return out.split('\n').filter(Boolean).sort();
}

/** Entries listed by the real `tar -tzf` for a gzip archive given as bytes, without the `./` root entry. */
export function archiveEntries(archive: Buffer): string[] {
  const out = execFileSync('tar', ['-tzf', '-'], { input: archive, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return out.split('\n').filter((l) => l && l !== './').sort();
}

/**
 * Every entry of a folder as a restore must reproduce it: type, permission bits, link target, content. Read with
 * GNU find as bytes; lost+found (a new ext4 claim's own) is left out.
 */
export function contentTree(root: string): string[] {
  const found = spawnSync('find', ['.', '-mindepth', '1', '-not', '-path', './lost+found*', '-printf', '%y %m %l\\0%p\\0'], { cwd: root, encoding: 'latin1' });
  assert.equal(found.status, 0, found.stderr);
  const fields = found.stdout.split('\0');
  const entries: string[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const [type] = fields[i]!.split(' ');
    const name = fields[i + 1]!;
    const content = type === 'f' ? readFileSync(Buffer.from(join(root, name), 'latin1')).toString('base64') : '';
    entries.push(`${fields[i]} ${name} ${content}`);
  }
  return entries.sort();
}
