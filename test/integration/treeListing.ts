import { execFileSync } from 'node:child_process';

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
