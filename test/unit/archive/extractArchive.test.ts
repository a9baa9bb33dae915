import * as assert from 'node:assert/strict';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ArchiveDamagedError } from '../../../src/core/archive/archiveErrors';
import { extractArchive } from '../../../src/core/archive/extractArchive';
import { gzipFile, systemTarGz, tarBytes, writeTarGz, type CraftedEntry } from './craftedArchive';

const posixOnly = process.platform === 'win32' ? it.skip : it;

describe('extractArchive', () => {
  let root: string;
  let dest: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'nkvm-extract-'));
    dest = path.join(root, 'dest');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function crafted(entries: CraftedEntry[]): Promise<string> {
    const file = path.join(root, `crafted-${Math.random().toString(36).slice(2)}.tar.gz`);
    await writeTarGz(file, entries);
    return file;
  }

  /** Everything in `root` except the archive files and the destination: what an attack would create. */
  async function outsideDest(): Promise<string[]> {
    return (await readdir(root)).filter((name) => name !== 'dest' && !name.endsWith('.tar.gz') && name !== 'volume');
  }

  posixOnly('restores a tar-made archive with content, modes, folders and an inside symlink', async () => {
    const volume = path.join(root, 'volume');
    await mkdir(path.join(volume, 'bin'), { recursive: true });
    await writeFile(path.join(volume, 'bin', 'run.sh'), '#!/bin/sh\necho hi\n');
    await chmod(path.join(volume, 'bin', 'run.sh'), 0o750);
    await writeFile(path.join(volume, 'secret'), 'pw');
    await chmod(path.join(volume, 'secret'), 0o600);
    await chmod(path.join(volume, 'bin'), 0o555);
    await symlink('bin/run.sh', path.join(volume, 'start'));
    const file = path.join(root, 'volume.tar.gz');
    systemTarGz(volume, file);
    await chmod(path.join(volume, 'bin'), 0o755);

    const result = await extractArchive(file, dest);
    assert.deepEqual(result.refused, []);
    assert.equal(result.written, 4);
    assert.equal(await readFile(path.join(dest, 'bin', 'run.sh'), 'utf8'), '#!/bin/sh\necho hi\n');
    assert.equal((await stat(path.join(dest, 'bin', 'run.sh'))).mode & 0o777, 0o750);
    assert.equal((await stat(path.join(dest, 'secret'))).mode & 0o777, 0o600);
    assert.equal((await stat(path.join(dest, 'bin'))).mode & 0o777, 0o555);
    assert.equal(await readlink(path.join(dest, 'start')), 'bin/run.sh');
    await chmod(path.join(dest, 'bin'), 0o755); // so the cleanup can remove it
  });

  it('extracts only the selected folder and file', async () => {
    const file = await crafted([
      { header: { name: './a/', type: 'directory' } },
      { header: { name: './a/one.txt', type: 'file' }, content: '1' },
      { header: { name: './a/sub/two.txt', type: 'file' }, content: '2' },
      { header: { name: './ab.txt', type: 'file' }, content: 'not under a/' },
      { header: { name: './c.txt', type: 'file' }, content: 'c' },
    ]);
    const result = await extractArchive(file, dest, { paths: ['a', './c.txt'] });
    assert.equal(result.written, 4);
    assert.equal(await readFile(path.join(dest, 'a', 'sub', 'two.txt'), 'utf8'), '2');
    assert.equal(await readFile(path.join(dest, 'c.txt'), 'utf8'), 'c');
    await assert.rejects(stat(path.join(dest, 'ab.txt')), /ENOENT/);
  });

  it('refuses absolute paths and .. escapes and writes nothing outside', async () => {
    const file = await crafted([
      { header: { name: path.join(root, 'absolute.txt'), type: 'file' }, content: 'x' },
      { header: { name: '../dotdot.txt', type: 'file' }, content: 'x' },
      { header: { name: 'fine.txt', type: 'file' }, content: 'ok' },
    ]);
    const result = await extractArchive(file, dest);
    assert.deepEqual(result.refused.map((r) => r.path), [path.join(root, 'absolute.txt'), '../dotdot.txt']);
    assert.match(result.refused[0]!.reason, /absolute/);
    assert.equal(result.written, 1);
    assert.deepEqual(await outsideDest(), []);
  });

  posixOnly('refuses a symlink out, and a file sent through it lands inside', async () => {
    const file = await crafted([
      { header: { name: 'out', type: 'symlink', linkname: '../' } },
      { header: { name: 'out/planted.txt', type: 'file' }, content: 'x' },
    ]);
    const result = await extractArchive(file, dest);
    assert.deepEqual(result.refused.map((r) => r.path), ['out']);
    assert.deepEqual(await outsideDest(), []);
    assert.ok((await lstat(path.join(dest, 'out'))).isDirectory());
  });

  posixOnly('refuses a chain of inside-looking symlinks that climbs out', async () => {
    const file = await crafted([
      { header: { name: 'a/', type: 'directory' } },
      { header: { name: 'a/b', type: 'symlink', linkname: '..' } },
      { header: { name: 'a/b/c', type: 'symlink', linkname: '..' } },
      { header: { name: 'a/b/c/planted.txt', type: 'file' }, content: 'x' },
    ]);
    const result = await extractArchive(file, dest);
    assert.deepEqual(result.refused.map((r) => r.path), ['a/b/c']);
    assert.match(result.refused[0]!.reason, /outside the destination/);
    assert.deepEqual(await outsideDest(), []);
  });

  posixOnly('does not follow a symlink already in the destination that leads outside', async () => {
    await mkdir(dest, { recursive: true });
    await symlink(root, path.join(dest, 'shared'));
    const file = await crafted([{ header: { name: 'shared/planted.txt', type: 'file' }, content: 'x' }]);
    const result = await extractArchive(file, dest);
    assert.deepEqual(result.refused.map((r) => r.path), ['shared/planted.txt']);
    assert.match(result.refused[0]!.reason, /symlink that leads outside/);
    assert.deepEqual(await outsideDest(), []);
  });

  posixOnly('replaces a file-name symlink instead of writing through it', async () => {
    await mkdir(dest, { recursive: true });
    await writeFile(path.join(root, 'victim.txt'), 'original');
    await symlink(path.join(root, 'victim.txt'), path.join(dest, 'config.txt'));
    const file = await crafted([{ header: { name: 'config.txt', type: 'file' }, content: 'from archive' }]);
    await extractArchive(file, dest);
    assert.equal(await readFile(path.join(root, 'victim.txt'), 'utf8'), 'original');
    assert.equal(await readFile(path.join(dest, 'config.txt'), 'utf8'), 'from archive');
  });

  it('refuses hard links outside and device files', async () => {
    const file = await crafted([
      { header: { name: 'passwd', type: 'link', linkname: '/etc/passwd' } },
      { header: { name: 'up', type: 'link', linkname: '../victim.txt' } },
      { header: { name: 'dev/sda', type: 'block-device' } },
      { header: { name: 'dev/null', type: 'character-device' } },
    ]);
    const result = await extractArchive(file, dest);
    assert.deepEqual(result.refused.map((r) => r.path), ['passwd', 'up', 'dev/sda', 'dev/null']);
    assert.equal(result.written, 0);
    await assert.rejects(stat(path.join(dest, 'passwd')), /ENOENT/);
  });

  it('creates a hard link inside the archive', async () => {
    const file = await crafted([
      { header: { name: 'a.txt', type: 'file' }, content: 'same' },
      { header: { name: 'b.txt', type: 'link', linkname: 'a.txt' } },
    ]);
    await extractArchive(file, dest);
    assert.equal((await stat(path.join(dest, 'b.txt'))).ino, (await stat(path.join(dest, 'a.txt'))).ino);
  });

  it('leaves no file under its final name, and no temporary file, when the archive is cut mid-file', async () => {
    const tar = await tarBytes([
      { header: { name: 'whole.txt', type: 'file' }, content: 'complete' },
      { header: { name: 'big.bin', type: 'file' }, content: Buffer.alloc(200_000, 7) },
    ]);
    const file = path.join(root, 'cut.tar.gz');
    await writeFile(file, gzipFile(tar.subarray(0, 100_000)));
    await assert.rejects(extractArchive(file, dest), ArchiveDamagedError);
    assert.deepEqual(await readdir(dest), ['whole.txt']);
  });
});
