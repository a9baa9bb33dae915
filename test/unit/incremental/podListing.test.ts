import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_FIELD_BYTES, parsePodListing, PodListingParser, type ListedEntry } from '../../../src/core/incremental/podListing';
import { LISTING_END, LISTING_HEADER, podListingCommand } from '../../../src/core/incremental/podListingCommand';
import { decodePodListing, encodePodListing } from '../../../src/core/incremental/podListingCodec';
import { runHelperCommand, type Userland } from './localHelper';

/** A name as a path on this machine: latin1 byte strings become the bytes they stand for. */
const at = (root: string, name: string): Buffer => Buffer.concat([Buffer.from(`${root}/`), Buffer.from(name, 'latin1')]);
const utf8 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

/** A tree with the names and kinds a volume holds; returns the names as latin1 byte strings. */
function seed(root: string): void {
  mkdirSync(join(root, 'docs', 'deep'), { recursive: true });
  mkdirSync(join(root, 'lost+found'));
  writeFileSync(join(root, 'lost+found', 'x'), 'fsck');
  writeFileSync(join(root, 'docs', 'a.txt'), 'hello');
  writeFileSync(join(root, 'docs', 'deep', 'b.log'), 'log');
  writeFileSync(at(root, 'new\nline'), 'n');
  writeFileSync(at(root, 'latin\xe9'), 'l');
  writeFileSync(join(root, 'back\\slash and space'), 'b');
  writeFileSync(join(root, '-dash'), 'd');
  writeFileSync(join(root, 'Ünïcødé'), 'u');
  chmodSync(join(root, 'docs', 'a.txt'), 0o640);
  symlinkSync('docs/a.txt', join(root, 'link'));
  symlinkSync('target\n', join(root, 'link-nl'));
  linkSync(join(root, 'docs', 'a.txt'), join(root, 'hard'));
}

function expected(root: string, name: string): Omit<ListedEntry, 'name' | 'linkname'> {
  const st = lstatSync(name === '.' ? root : at(root, name), { bigint: true });
  const time = (ns: bigint) => ({ s: Number(ns / 1_000_000_000n), ns: Number(ns % 1_000_000_000n) });
  const type = st.isFile() ? 'file' : st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'other';
  return {
    type,
    size: Number(st.size),
    mtime: time(st.mtimeNs),
    ctime: time(st.ctimeNs),
    mode: Number(st.mode) & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    inode: Number(st.ino),
    links: Number(st.nlink),
  };
}

for (const userland of ['busybox', 'gnu'] as Userland[]) {
  describe(`the volume listing in the helper (${userland} userland)`, () => {
    let root: string;
    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'nkvm-listing-'));
      seed(root);
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it('lists every entry with its type, size, times to the nanosecond, mode, owner, inode and link target, names as bytes', () => {
      const run = runHelperCommand(podListingCommand(), root, userland);
      assert.equal(run.status, 0, run.stderr);
      const listing = parsePodListing(run.stdout);
      const names = listing.entries.map((e) => e.name).sort();
      const want = ['.', '-dash', 'back\\slash and space', 'docs', 'docs/a.txt', 'docs/deep', 'docs/deep/b.log', 'hard', 'latin\xe9', 'link', 'link-nl', 'new\nline', utf8('Ünïcødé')].sort();
      assert.deepEqual(names, want, 'lost+found at the root is left out, the root itself is listed');
      for (const e of listing.entries) {
        const { linkname, name, ...rest } = e;
        assert.deepEqual(rest, expected(root, name), name);
        if (name === 'link') assert.equal(linkname, 'docs/a.txt');
        if (name === 'link-nl') assert.equal(linkname, 'target\n', 'a target ending in a newline keeps it');
      }
      assert.ok(listing.entries.some((e) => e.mtime.ns !== 0), 'sub-second times come through');
      const now = Date.now() / 1000;
      assert.ok(Math.abs(listing.startedAt.s - now) < 60, 'the start time is the clock of the machine that lists');
    });

    it('lists only the included paths, less the excluded patterns', () => {
      const run = runHelperCommand(podListingCommand({ include: ['docs', 'li*'], exclude: ['docs/deep/*.log'] }), root, userland);
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(parsePodListing(run.stdout).entries.map((e) => e.name).sort(), ['docs', 'docs/a.txt', 'docs/deep', 'link', 'link-nl']);
      const excluded = runHelperCommand(podListingCommand({ include: [], exclude: ['docs'] }), root, userland);
      assert.ok(!parsePodListing(excluded.stdout).entries.some((e) => e.name.startsWith('docs')), 'an excluded folder goes with what it holds');
    });

    it('says so when an include path matches nothing', () => {
      const run = runHelperCommand(podListingCommand({ include: ['nope'], exclude: [] }), root, userland);
      assert.equal(run.status, 2);
      assert.match(run.stderr, /nothing in the volume matches the include path nope/);
    });

    it('fails instead of listing a folder it cannot read as empty', function () {
      // Only root can run the listing as another user here; a helper running as non-root meets this.
      if (process.getuid?.() !== 0) this.skip();
      mkdirSync(join(root, 'closed'));
      writeFileSync(join(root, 'closed', 'secret'), 's');
      chmodSync(join(root, 'closed'), 0o700);
      chmodSync(root, 0o755);
      const run = runHelperCommand(podListingCommand(), root, userland, undefined, 65534);
      assert.equal(run.status, 3, run.stderr);
      assert.match(run.stderr, /closed/);
      assert.equal(run.stdout.includes(Buffer.from(LISTING_END)), false, 'no end marker: the listing cannot pass as whole');
    });
  });
}

describe('reading the listing', () => {
  let output: Buffer;
  before(() => {
    const root = mkdtempSync(join(tmpdir(), 'nkvm-listing-'));
    seed(root);
    output = runHelperCommand(podListingCommand(), root, 'gnu').stdout;
    rmSync(root, { recursive: true, force: true });
  });

  it('gives the same entries whatever the chunks the stream arrives in', () => {
    const whole = parsePodListing(output);
    const parser = new PodListingParser();
    const entries: ListedEntry[] = [];
    for (let i = 0; i < output.length; i += 7) entries.push(...parser.push(output.subarray(i, i + 7)));
    assert.deepEqual({ startedAt: parser.end(), entries }, whole);
  });

  it('refuses a listing cut short, even at an entry boundary', () => {
    const cut = output.subarray(0, output.length - LISTING_END.length - 1);
    assert.throws(() => parsePodListing(cut), /cut short/);
    assert.throws(() => parsePodListing(output.subarray(0, output.length - 30)), /cut short|unreadable/);
  });

  it('refuses a field longer than any path, without holding it', () => {
    const parser = new PodListingParser();
    parser.push(Buffer.from(`${LISTING_HEADER} 81a4 0 1 x y z 1 x y z 0 0 1 1\0`));
    assert.throws(() => parser.push(Buffer.alloc(MAX_FIELD_BYTES + 1, 0x41)), /longer than/);
  });

  it('refuses a batch whose stat lines do not match its names', () => {
    const line = '81a4 1 1796316208 2026-12-03 16:43:28.1 +0000 1796316208 2026-12-03 16:43:28.1 +0000 0 0 2 1';
    const start = `${LISTING_HEADER} ${line}\0`;
    assert.equal(parsePodListing(Buffer.from(`${start}B\0./a\0\0${line}\n\0${LISTING_END}\0`)).entries.length, 1);
    assert.throws(() => parsePodListing(Buffer.from(`${start}B\0./a\0./b\0\0${line}\n\0${LISTING_END}\0`)), /1 stat lines for a batch of 2 names/);
  });

  it('drops a symlink that vanished while it was listed (no target)', () => {
    const start = '81a4 0 1796316208 2026-12-03 16:43:28.757839437 +0000 1796316208 2026-12-03 16:43:28.757839437 +0000 0 0 1 1';
    const link = 'a1ff 1 1796316208 2026-12-03 16:43:28.1 +0000 1796316208 2026-12-03 16:43:28.1 +0000 0 0 2 1';
    const listing = parsePodListing(Buffer.from(`${LISTING_HEADER} ${start}\0${link}\0./gone\0\0${LISTING_END}\0`, 'latin1'));
    assert.deepEqual(listing.entries, []);
    assert.deepEqual(listing.startedAt, { s: 1796316208, ns: 757839437 });
  });

  it('keeps a listing in the history form and back unchanged, with a digest that names its content', () => {
    const listing = parsePodListing(output);
    const encoded = encodePodListing(listing);
    const decoded = decodePodListing(encoded.bytes);
    assert.deepEqual({ startedAt: decoded.startedAt, entries: decoded.entries }, listing);
    assert.equal(decoded.sha256, encoded.sha256);
    const touched = { ...listing, entries: listing.entries.map((e, i) => (i === 1 ? { ...e, mtime: { ...e.mtime, ns: (e.mtime.ns + 1) % 1e9 } } : e)) };
    assert.notEqual(encodePodListing(touched).sha256, encoded.sha256, 'one nanosecond changes the digest');
  });
});
