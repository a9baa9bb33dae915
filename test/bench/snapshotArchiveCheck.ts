import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What the archive on disk holds, read with the host's own tools rather than the engine's code. */
export interface ArchiveCheck {
  /** `sha256sum` of the file. */
  sha256: string;
  /** Every entry `tar -tzf` lists, `./` and trailing slashes dropped, sorted. */
  entries: string[];
}

export async function checkArchive(path: string): Promise<ArchiveCheck> {
  const sum = await run('sha256sum', ['--', path], { encoding: 'utf8' });
  const listing = await run('tar', ['-tzf', path], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const entries = listing.stdout
    .split('\n')
    .map((e) => e.replace(/^\.\//, '').replace(/\/$/, ''))
    .filter((e) => e !== '' && e !== '.')
    .sort();
  return { sha256: sum.stdout.split(/\s/)[0]!, entries };
}

/** Entries only one listing has, at most `limit` of each side, for an error message. */
export function listingDifference(a: string[], b: string[], limit = 5): { onlyInFirst: string[]; onlyInSecond: string[] } {
  const inA = new Set(a);
  const inB = new Set(b);
  return { onlyInFirst: a.filter((e) => !inB.has(e)).slice(0, limit), onlyInSecond: b.filter((e) => !inA.has(e)).slice(0, limit) };
}
