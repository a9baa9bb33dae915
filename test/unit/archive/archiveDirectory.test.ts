import * as assert from 'node:assert/strict';
import { ArchiveDirectory, modeText } from '../../../src/core/archive/archiveDirectory';
import type { ArchiveIndex, ArchiveIndexEntry } from '../../../src/core/archive/archiveIndex';

const entry = (path: string, type: string, extra: Partial<ArchiveIndexEntry> = {}): ArchiveIndexEntry => ({ path, type, size: 0, mode: 0o644, mtimeMs: 0, dataOffset: 0, ...extra });
const index = (entries: ArchiveIndexEntry[]): ArchiveIndex => ({ entries, totals: { files: 0, bytes: 0 }, unsafe: [] });

describe('Browsing an archive as folders', () => {
  const directory = new ArchiveDirectory(
    index([
      entry('etc', 'directory', { mode: 0o755 }),
      entry('etc/app.conf', 'file', { size: 12 }),
      // tar lists deep files without their folders when given paths; the folders must still appear.
      entry('var/lib/db/data.bin', 'file', { size: 4096 }),
      entry('current', 'symlink', { linkname: 'var/lib/db' }),
      entry('etc/app.conf.bak', 'link', { linkname: 'etc/app.conf' }),
    ]),
  );

  it('lists the root and shows folders the archive only implies', () => {
    assert.deepEqual(directory.list('')!.map((n) => [n.path, n.kind]), [['current', 'symlink'], ['etc', 'directory'], ['var', 'directory']]);
    assert.deepEqual(directory.list('var/lib')!.map((n) => n.path), ['var/lib/db']);
  });

  it('follows a symlink to a folder inside the archive, and a path through it', () => {
    assert.equal(directory.lookup('current', { follow: true })?.path, 'var/lib/db');
    assert.deepEqual(directory.list('current')!.map((n) => n.path), ['var/lib/db/data.bin']);
    assert.equal(directory.lookup('current/data.bin')?.size, 4096);
  });

  it('gives a hard link the size of the file it points at', () => {
    const link = directory.lookup('etc/app.conf.bak');
    assert.equal(link?.kind, 'file');
    assert.equal(link?.size, 12);
  });

  it('says a missing path or a file is not a folder', () => {
    assert.equal(directory.lookup('nope'), undefined);
    assert.equal(directory.list('etc/app.conf'), undefined);
  });

  it('writes modes as ls -l does', () => {
    assert.equal(modeText('directory', 0o755), 'drwxr-xr-x');
    assert.equal(modeText('file', 0o640), '-rw-r-----');
  });
});
