import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tallyArchiveFile } from '../../../src/core/restore/archiveTally';

describe('archive tally', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nkvm-tally-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function archive(name: string, owner: string, files: Record<string, string>): string {
    const root = join(dir, name);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const file = join(dir, `${name}.tar.gz`);
    execFileSync('tar', ['czf', file, '-C', root, `--owner=${owner.split(':')[0]}`, `--group=${owner.split(':')[1]}`, '--numeric-owner', '.']);
    return file;
  }

  it('counts the owners of the entries as the tar headers give them, the root entry left out', async () => {
    const tally = await tallyArchiveFile(archive('pg', '999:998', { 'pgdata/PG_VERSION': '17\n', 'pgdata/base/1': 'x' }));
    assert.deepEqual(tally.owners, [{ uid: 999, gid: 998, entries: 4 }]);
    assert.equal(tally.files, 2);
  });

  it('counts only the selected paths', async () => {
    const tally = await tallyArchiveFile(archive('mixed', '1000:1000', { 'a/one.txt': '1', 'b/two.txt': '2' }), ['a']);
    assert.deepEqual(tally.owners, [{ uid: 1000, gid: 1000, entries: 2 }]);
    assert.equal(tally.files, 1);
  });
});
