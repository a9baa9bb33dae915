import * as assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ArchiveDamagedError, ArchiveEntryNotAFileError, ArchiveEntryNotFoundError, ArchiveEntryTooLargeError } from '../../../src/core/archive/archiveErrors';
import { buildArchiveIndex } from '../../../src/core/archive/archiveIndex';
import { decodeArchiveIndex, encodeArchiveIndex } from '../../../src/core/archive/archiveIndexCodec';
import { readArchiveFile } from '../../../src/core/archive/readArchiveFile';
import { gzipFile, systemTarGz, tarBytes, writeTarGz } from './craftedArchive';

describe('archive index and reading one file', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'nkvm-archive-index-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function volumeArchive(): Promise<string> {
    const volume = path.join(root, 'volume');
    await mkdir(path.join(volume, 'data', 'deep'), { recursive: true });
    await writeFile(path.join(volume, 'data', 'app.db'), 'rows'.repeat(300));
    await writeFile(path.join(volume, 'data', 'deep', 'note.txt'), 'hello from the volume\n', { mode: 0o600 });
    await writeFile(path.join(volume, 'README'), 'top');
    await symlink('data/app.db', path.join(volume, 'current'));
    await utimes(path.join(volume, 'README'), new Date('2025-05-05T05:05:05Z'), new Date('2025-05-05T05:05:05Z'));
    const file = path.join(root, 'volume.tar.gz');
    systemTarGz(volume, file);
    return file;
  }

  it('lists an archive made by tar with normalised paths, modes, totals and data offsets', async () => {
    const file = await volumeArchive();
    const index = await buildArchiveIndex(file);
    const byPath = new Map(index.entries.map((e) => [e.path, e]));
    assert.deepEqual([...byPath.keys()].sort(), ['README', 'current', 'data', 'data/app.db', 'data/deep', 'data/deep/note.txt']);
    assert.equal(byPath.get('data')!.type, 'directory');
    assert.equal(byPath.get('current')!.type, 'symlink');
    assert.equal(byPath.get('current')!.linkname, 'data/app.db');
    assert.equal(byPath.get('data/deep/note.txt')!.mode & 0o777, 0o600);
    assert.equal(byPath.get('README')!.mtimeMs, Date.parse('2025-05-05T05:05:05Z'));
    assert.deepEqual(index.totals, { files: 3, bytes: 1200 + 22 + 3 });
    assert.deepEqual(index.unsafe, []);

    // The offset really points at the data in the uncompressed stream.
    const { gunzipSync } = await import('node:zlib');
    const { readFile } = await import('node:fs/promises');
    const tar = gunzipSync(await readFile(file));
    const note = byPath.get('data/deep/note.txt')!;
    assert.equal(tar.subarray(note.dataOffset, note.dataOffset + note.size).toString(), 'hello from the volume\n');
  });

  it('keeps unsafe entries out of the listing and says why', async () => {
    const file = path.join(root, 'evil.tar.gz');
    await writeTarGz(file, [
      { header: { name: 'ok.txt', type: 'file' }, content: 'fine' },
      { header: { name: '../escape.txt', type: 'file' }, content: 'x' },
      { header: { name: 'dev/sda', type: 'block-device' } },
    ]);
    const index = await buildArchiveIndex(file);
    assert.deepEqual(index.entries.map((e) => e.path), ['ok.txt']);
    assert.deepEqual(index.unsafe.map((u) => u.path), ['../escape.txt', 'dev/sda']);
    assert.match(index.unsafe[1]!.reason, /device/);
  });

  it('survives a round trip through its compact stored form', async () => {
    const index = await buildArchiveIndex(await volumeArchive());
    assert.deepEqual(decodeArchiveIndex(encodeArchiveIndex(index)), index);
  });

  it('reads one file, follows a hard link, and refuses folders, missing and oversized entries', async () => {
    const file = path.join(root, 'links.tar.gz');
    await writeTarGz(file, [
      { header: { name: './data/', type: 'directory' } },
      { header: { name: './data/a.txt', type: 'file' }, content: 'alpha' },
      { header: { name: './data/b.txt', type: 'link', linkname: './data/a.txt' } },
      { header: { name: './big.bin', type: 'file' }, content: Buffer.alloc(4096) },
    ]);
    assert.equal((await readArchiveFile(file, 'data/a.txt')).toString(), 'alpha');
    assert.equal((await readArchiveFile(file, './data/b.txt')).toString(), 'alpha');
    await assert.rejects(readArchiveFile(file, 'data'), ArchiveEntryNotAFileError);
    await assert.rejects(readArchiveFile(file, 'nope.txt'), ArchiveEntryNotFoundError);
    await assert.rejects(readArchiveFile(file, 'big.bin', { maxBytes: 1000 }), ArchiveEntryTooLargeError);
  });

  it('stops reading once the file is found: damage after it does not matter', async () => {
    const tar = await tarBytes([
      { header: { name: 'first.txt', type: 'file' }, content: 'early' },
      { header: { name: 'second.txt', type: 'file' }, content: 'late' },
    ]);
    const gz = gzipFile(tar);
    const file = path.join(root, 'cut.tar.gz');
    await writeFile(file, gz.subarray(0, gz.length - 12)); // cut the gzip trailer off
    assert.equal((await readArchiveFile(file, 'first.txt')).toString(), 'early');
    await assert.rejects(buildArchiveIndex(file), (error: unknown) => {
      assert.ok(error instanceof ArchiveDamagedError);
      assert.equal(error.layer, 'gzip');
      return true;
    });
  });

  it('stops when aborted', async () => {
    const file = await volumeArchive();
    const controller = new AbortController();
    controller.abort(new Error('user cancelled'));
    await assert.rejects(buildArchiveIndex(file, { signal: controller.signal }), /user cancelled/);
  });
});

describe('plain .tar archives (nkvm.compression = none)', () => {
  it('lists, reads and verifies an uncompressed tar made by tar', async () => {
    const { execFileSync } = await import('node:child_process');
    const { verifyArchive } = await import('../../../src/core/archive/verifyArchive');
    const root = await mkdtemp(path.join(tmpdir(), 'nkvm-plain-tar-'));
    try {
      await mkdir(path.join(root, 'v'));
      await writeFile(path.join(root, 'v', 'a.txt'), 'plain');
      const file = path.join(root, 'v.tar');
      execFileSync('tar', ['cf', file, '-C', path.join(root, 'v'), '.']);
      assert.deepEqual((await buildArchiveIndex(file)).entries.map((e) => e.path), ['a.txt']);
      assert.equal((await readArchiveFile(file, 'a.txt')).toString(), 'plain');
      assert.equal((await verifyArchive(file, {})).outcome, 'ok');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
