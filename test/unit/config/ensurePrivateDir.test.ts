import * as assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ensurePrivateDir } from '../../../src/core/config/ensurePrivateDir';

const posixOnly = process.platform === 'win32' ? it.skip : it;

describe('ensurePrivateDir', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'nkvm-dir-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  posixOnly('creates missing folders and parents with mode 0700 whatever the umask', async () => {
    const previous = process.umask(0o000);
    try {
      const result = await ensurePrivateDir(path.join(root, 'data', 'nested'));
      assert.deepEqual(result.created, [path.join(root, 'data'), path.join(root, 'data', 'nested')]);
      for (const folder of result.created) {
        assert.equal((await stat(folder)).mode & 0o777, 0o700, folder);
      }
      assert.equal(result.openToOthers, false);
    } finally {
      process.umask(previous);
    }
  });

  posixOnly('leaves an existing shared folder as it is and reports it', async () => {
    const shared = path.join(root, 'shared');
    await mkdir(shared, { mode: 0o755 });
    const result = await ensurePrivateDir(shared);
    assert.deepEqual(result.created, []);
    assert.equal((await stat(shared)).mode & 0o777, 0o755);
    assert.equal(result.openToOthers, true);
  });

  it('explains when a file is in the way', async () => {
    const file = path.join(root, 'backups');
    await writeFile(file, 'not a folder');
    await assert.rejects(ensurePrivateDir(path.join(file, 'inner')), /a file is in the way/);
    await assert.rejects(ensurePrivateDir(file), /a file/);
  });
});
