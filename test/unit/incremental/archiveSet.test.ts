import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestArchiveFile } from '../../../src/core/archive/archiveDigests';
import { MANIFEST_MEMBER, manifestPath, parseManifest, pathBytes } from '../../../src/core/incremental/incrementalManifest';
import { readManifest } from '../../../src/core/incremental/manifestMember';
import { selectionCommand, selectionInput } from '../../../src/core/incremental/selectionCommand';
import { fullBackupLocally, incrementalBackupLocally } from './localChain';
import { runHelperCommand, runTar, type Userland } from './localHelper';

const at = (root: string, name: string): Buffer => Buffer.concat([Buffer.from(`${root}/`), Buffer.from(name, 'latin1')]);
const USERLANDS: Userland[] = ['busybox', 'gnu'];

for (const userland of USERLANDS) {
  describe(`sending the changed entries (${userland} tar)`, () => {
    let root: string;
    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'nkvm-select-'));
      mkdirSync(join(root, 'd'));
      writeFileSync(join(root, 'd', 'x'), 'x');
      writeFileSync(join(root, 'd', 'y'), 'y, not sent');
      mkdirSync(at(root, 'dir\nnl'));
      writeFileSync(at(root, 'dir\nnl/inner'), 'i');
      writeFileSync(at(root, 'dir\nnl/not sent'), 'n');
      writeFileSync(at(root, 'new\nline'), 'n');
      writeFileSync(at(root, 'latin\xe9'), 'l');
      writeFileSync(join(root, 'back\\slash'), 'b');
      writeFileSync(join(root, '-dash'), 'd');
      writeFileSync(join(root, 'trailing space '), 't');
      symlinkSync('d/x', join(root, 'link'));
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it('sends exactly the named entries, whatever bytes their names hold, and nothing a named folder holds unless named', async () => {
      const names = ['.', 'd', 'd/x', 'dir\nnl', 'dir\nnl/inner', 'new\nline', 'latin\xe9', 'back\\slash', '-dash', 'trailing space ', 'link'];
      const run = runHelperCommand(selectionCommand('pod-gzip'), root, userland, selectionInput(names));
      assert.equal(run.status, 0, run.stderr);
      const file = join(root, '..', `${root.split('/').pop()}.tar.gz`);
      writeFileSync(file, run.stdout);
      const read = await digestArchiveFile(file);
      rmSync(file);
      assert.equal(read.problem, undefined);
      assert.deepEqual(read.entries.map((e) => e.name).sort(), names.map((n) => (n === '.' ? '' : n)).sort());
      const link = read.entries.find((e) => e.name === 'link');
      assert.equal(link?.type, 'symlink', 'a symlink is sent as a link, not followed');
      assert.equal(link?.linkname, 'd/x');
    });

    it('sends an uncompressed tar for the other compression modes', () => {
      const run = runHelperCommand(selectionCommand('none'), root, userland, selectionInput(['d/x']));
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout.subarray(257, 262).toString('latin1'), 'ustar');
    });
  });
}

describe('the incremental archive: a manifest member, then the pod\'s gzip stream', () => {
  let root: string;
  let work: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'nkvm-archiveset-'));
    root = join(work, 'volume');
    mkdirSync(join(root, 'docs'), { recursive: true });
    writeFileSync(join(root, 'docs', 'a.txt'), 'a');
    writeFileSync(at(root, 'gone\xe9'), 'g');
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  for (const userland of USERLANDS) {
    it(`is one .tar.gz that GNU tar and BusyBox tar list and extract, the manifest first, left out on restore (made by ${userland})`, async () => {
      const full = fullBackupLocally(root, userland, join(work, `full-${userland}.tar.gz`), 1);
      writeFileSync(join(root, 'docs', 'b.txt'), 'b');
      rmSync(at(root, 'gone\xe9'));
      const inc = incrementalBackupLocally(root, userland, join(work, `inc-${userland}.tar.gz`), 2, [full]);
      for (const tar of USERLANDS) {
        const listed = runTar(tar, ['tzf', inc.path], work);
        assert.equal(listed.status, 0, listed.stderr);
        const members = listed.stdout.toString('latin1').split('\n').filter(Boolean);
        assert.equal(members[0], MANIFEST_MEMBER, `${tar} tar lists the manifest first`);
        assert.ok(members.includes('./docs/b.txt'));
        const out = join(work, `out-${userland}-${tar}`);
        mkdirSync(out);
        const x = runTar(tar, ['xzf', inc.path, '-C', out, `--exclude=${MANIFEST_MEMBER}`], work);
        assert.equal(x.status, 0, x.stderr);
        assert.ok(existsSync(join(out, 'docs', 'b.txt')));
        assert.equal(existsSync(join(out, '.nkvm')), false, `${tar} tar leaves the manifest out when told to`);
      }
      const manifest = await readManifest(inc.path);
      assert.deepEqual(manifest, inc.plan!.manifest);
      assert.deepEqual(manifest!.chain, [full.ref]);
      assert.deepEqual(manifest!.base, full.ref);
      assert.deepEqual(manifest!.deleted, [{ base64: Buffer.from('gone\xe9', 'latin1').toString('base64') }], 'a name that is not UTF-8 is kept as base64');
      assert.equal(manifest!.counts.added, 1);
      assert.equal(manifest!.counts.deleted, 1);
      assert.equal(manifest!.listing.entries, inc.listing.entries.length);
      assert.equal(await readManifest(full.path), undefined, 'a full backup has no manifest');
      rmSync(join(root, 'docs', 'b.txt'));
      writeFileSync(at(root, 'gone\xe9'), 'g');
    });
  }

  it('holds only the manifest when nothing changed, and tar still reads it', async () => {
    const full = fullBackupLocally(root, 'gnu', join(work, 'full-same.tar.gz'), 1);
    await new Promise((r) => setTimeout(r, 50));
    const again = fullBackupLocally(root, 'gnu', join(work, 'full-again.tar.gz'), 2);
    const inc = incrementalBackupLocally(root, 'gnu', join(work, 'inc-same.tar.gz'), 3, [{ ...full, listing: again.listing }]);
    assert.equal(inc.plan!.selection.names.length, 0);
    for (const tar of USERLANDS) {
      const listed = runTar(tar, ['tzf', inc.path], work);
      assert.equal(listed.status, 0, listed.stderr);
      assert.equal(listed.stdout.toString('latin1'), `${MANIFEST_MEMBER}\n`);
    }
  });

  it('refuses a manifest of a newer format, or not a manifest at all', () => {
    assert.throws(() => parseManifest('{"format":"nkvm-incremental","version":99}'), /newer than this version of nkvm reads.*update nkvm/);
    assert.throws(() => parseManifest('{"format":"other"}'), /format is not nkvm-incremental/);
    assert.throws(() => parseManifest('not json'), /not JSON/);
  });

  it('keeps paths as bytes: UTF-8 as text, anything else as base64', () => {
    for (const name of ['plain', 'Ünï\ncødé', 'latin\xe9']) {
      const bytes = name === 'latin\xe9' ? name : Buffer.from(name, 'utf8').toString('latin1');
      assert.equal(pathBytes(manifestPath(bytes)), bytes);
    }
    assert.equal(manifestPath(Buffer.from('Ünï', 'utf8').toString('latin1')), 'Ünï');
  });
});
