import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, lstatSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestArchiveFile } from '../../../src/core/archive/archiveDigests';
import type { CompressionMode } from '../../../src/core/backup/archiveCommand';
import { planPieces } from '../../../src/core/backup/streamPlan';
import { endOfArchiveBlocks, endOfArchiveMember } from '../../../src/core/incremental/manifestMember';
import type { ListedEntry } from '../../../src/core/incremental/podListing';
import { selectionCommand, selectionInput } from '../../../src/core/incremental/selectionCommand';
import { listLocally } from '../incremental/localChain';
import { runHelperCommand, runTar, type Userland } from '../incremental/localHelper';

const at = (root: string, name: string): Buffer => Buffer.concat([Buffer.from(`${root}/`), Buffer.from(name, 'latin1')]);

/** Every entry under `root` as a restore must give it back: type, mode, content or target, and which names share an inode. */
function treeOf(root: string): Record<string, string> {
  const tree: Record<string, string> = {};
  const inodes = new Map<number, string>();
  const walk = (rel: Buffer): void => {
    const abs = Buffer.concat([Buffer.from(root), rel.length ? Buffer.from('/') : Buffer.alloc(0), rel]);
    for (const name of readdirSync(abs, { encoding: 'buffer' })) {
      const child = rel.length ? Buffer.concat([rel, Buffer.from('/'), name]) : name;
      const path = Buffer.concat([Buffer.from(root), Buffer.from('/'), child]);
      const st = lstatSync(path);
      const key = child.toString('latin1');
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        tree[key] = `dir ${mode}`;
        walk(child);
      } else if (st.isSymbolicLink()) tree[key] = `link -> ${readlinkSync(path, { encoding: 'buffer' }).toString('latin1')}`;
      else {
        const first = st.nlink > 1 ? inodes.get(st.ino) : undefined;
        if (st.nlink > 1 && !first) inodes.set(st.ino, key);
        tree[key] = `file ${mode} ${readFileSync(path).toString('base64').slice(0, 40)} ${st.size}${first ? ` same as ${first}` : ''}`;
      }
    }
  };
  walk(Buffer.alloc(0));
  return tree;
}

describe('a volume split into parts', () => {
  const entry = (name: string, size: number, extra: Partial<ListedEntry> = {}): ListedEntry => ({
    name,
    type: 'file',
    size,
    mtime: { s: 1, ns: 0 },
    ctime: { s: 1, ns: 0 },
    mode: 0o644,
    uid: 0,
    gid: 0,
    inode: size + name.length * 1000,
    links: 1,
    ...extra,
  });

  it('keeps listing order, puts a large file alone, every name of a hard-linked file with its first name, and leaves special files out', () => {
    const entries = [
      entry('.', 0, { type: 'directory' }),
      entry('a', 3000, { inode: 7, links: 2 }),
      entry('big', 100_000),
      entry('fifo', 0, { type: 'other' }),
      entry('c', 1000),
      entry('z/also-a', 3000, { inode: 7, links: 2 }),
    ];
    const pieces = planPieces(entries, undefined, 2, { pieceBytes: 8192 });
    assert.deepEqual(
      pieces.map((p) => p.names),
      [['.', 'a', 'z/also-a'], ['big'], ['c']],
    );
    assert.deepEqual(planPieces(entries, new Set(['c', 'big']), 2, { pieceBytes: 8192 }).map((p) => p.names), [['big'], ['c']]);
  });
});

for (const userland of ['busybox', 'gnu'] as Userland[]) {
  for (const compression of ['pod-gzip', 'none'] as CompressionMode[]) {
    describe(`parts sent by several ${userland} tars join into one archive (${compression})`, function () {
      this.timeout(60_000);
      let root: string;
      let work: string;
      before(() => {
        work = mkdtempSync(join(tmpdir(), 'nkvm-parts-'));
        root = join(work, 'volume');
        mkdirSync(join(root, 'data', 'deep'), { recursive: true });
        for (let i = 0; i < 12; i++) writeFileSync(join(root, 'data', `f${i}.bin`), randomBytes(20_000 + i * 1000));
        writeFileSync(join(root, 'data', 'deep', 'large.bin'), randomBytes(300_000));
        writeFileSync(at(root, 'new\nline'), 'a name with a newline');
        writeFileSync(at(root, 'caf\xe9'), 'latin1 name');
        writeFileSync(join(root, 'linked'), randomBytes(5000));
        linkSync(join(root, 'linked'), join(root, 'data', 'linked-too'));
        symlinkSync('data/deep/large.bin', join(root, 'shortcut'));
        mkdirSync(join(root, 'empty'), { mode: 0o750 });
      });
      after(() => rmSync(work, { recursive: true, force: true }));

      it('restores with the tar of either userland, in one pass, to the same tree', async () => {
        const listing = listLocally(root, userland);
        const pieces = planPieces(listing.entries, undefined, 3, { pieceBytes: 64 * 1024 });
        assert.ok(pieces.length >= 5, `several parts: ${pieces.length}`);
        const sent = pieces.map((piece) => {
          const run = runHelperCommand(selectionCommand(compression, 6, { joinable: true }), root, userland, selectionInput(piece.names));
          assert.equal(run.status, 0, run.stderr);
          // A gzip'd part is checked by gzip's own CRC-32 as it is inflated, a plain one by the pod's sha256.
          assert.match(run.stderr, compression === 'pod-gzip' ? /nkvm-trailer sha256=- tar-exit=0/ : /nkvm-trailer sha256=[0-9a-f]{64} tar-exit=0/);
          return run.stdout;
        });
        const gz = compression === 'pod-gzip';
        const file = join(work, `joined-${userland}.tar${gz ? '.gz' : ''}`);
        writeFileSync(file, Buffer.concat([...sent, gz ? endOfArchiveMember() : endOfArchiveBlocks()]));

        const listed = await digestArchiveFile(file);
        assert.equal(listed.problem, undefined);
        assert.deepEqual(listed.entries.map((e) => e.name).sort(), listing.entries.map((e) => (e.name === '.' ? '' : e.name)).sort());
        for (const reader of ['busybox', 'gnu'] as Userland[]) {
          const into = join(work, `out-${userland}-${reader}`);
          mkdirSync(into);
          const run = runTar(reader, [gz ? 'xzf' : 'xf', file, '-C', into], work);
          assert.equal(run.status, 0, run.stderr);
          assert.deepEqual(treeOf(into), treeOf(root), `extracted by ${reader} tar`);
          assert.equal(statSync(join(into, 'linked')).ino, statSync(join(into, 'data', 'linked-too')).ino, 'the hard link is a link again');
        }
      });
    });
  }
}
