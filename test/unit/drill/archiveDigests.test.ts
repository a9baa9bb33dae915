import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArchiveDigestTap, digestArchiveFile, displayName, type ArchiveDigests } from '../../../src/core/archive/archiveDigests';
import { decodeArchiveDigests, encodeArchiveDigests } from '../../../src/core/archive/archiveDigestsCodec';

/** A tree with what names and types can hold: newlines, bytes that are not UTF-8, links, modes, owners. */
function seedOddTree(root: string): void {
  const script = [
    'set -e',
    'mkdir -p "sub dir/deep" empty',
    'printf "one\\n" > "sub dir/deep/a.txt" && chmod 640 "sub dir/deep/a.txt"',
    "printf 'two' > \"$(printf 'new\\nline')\"",
    "printf 'three' > \"$(printf 'latin\\351')\"",
    'head -c 300000 /dev/urandom > random.bin',
    'ln -s "sub dir/deep/a.txt" link',
    'ln random.bin hard.bin',
    'chmod 2755 empty',
    'chown -R 1234:4321 .',
  ].join('\n');
  execFileSync('sh', ['-c', script], { cwd: root });
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('Listing an archive with the SHA-256 of every file', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nkvm-digests-'));
    execFileSync('mkdir', [join(dir, 'tree')]);
    seedOddTree(join(dir, 'tree'));
    execFileSync('tar', ['cf', join(dir, 'plain.tar'), '-C', join(dir, 'tree'), '.']);
    execFileSync('sh', ['-c', `gzip -c plain.tar > packed.tar.gz`], { cwd: dir });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const byName = (listing: ArchiveDigests) => new Map(listing.entries.map((e) => [e.name, e]));

  it('names every entry by its exact bytes, with type, mode, owner, link target and the content digest', async () => {
    const listing = byName(await digestArchiveFile(join(dir, 'plain.tar')));
    const random = readFileSync(join(dir, 'tree', 'random.bin'));
    const stored = [listing.get('random.bin'), listing.get('hard.bin')].find((e) => e?.type === 'file');
    assert.equal(stored?.sha256, sha(random));
    assert.equal(stored?.size, random.length);
    assert.equal(listing.get('new\nline')?.sha256, sha(Buffer.from('two')));
    assert.equal(listing.get(Buffer.from('latin\xe9', 'latin1').toString('latin1'))?.sha256, sha(Buffer.from('three')));
    assert.equal(listing.get('sub dir/deep/a.txt')?.mode, 0o640);
    assert.equal(listing.get('sub dir/deep/a.txt')?.uid, 1234);
    assert.equal(listing.get('sub dir/deep/a.txt')?.gid, 4321);
    assert.deepEqual([listing.get('link')?.type, listing.get('link')?.linkname], ['symlink', 'sub dir/deep/a.txt']);
    const hard = [listing.get('hard.bin'), listing.get('random.bin')].find((e) => e?.type === 'link');
    assert.equal(hard?.linkname, stored?.name, 'the other name is a hard link to the stored one');
    assert.equal(listing.get('empty')?.mode, 0o2755);
    assert.equal(listing.get('')?.type, 'directory');
  });

  it('the tap on a received gzip stream passes every byte unchanged and lists what the file itself lists', async () => {
    const bytes = readFileSync(join(dir, 'packed.tar.gz'));
    const tap = new ArchiveDigestTap(true);
    const out: Buffer[] = [];
    // Small chunks and a slow sink: backpressure must hold and no byte may be lost or reordered.
    const chunks = Array.from({ length: Math.ceil(bytes.length / 4096) }, (_, i) => bytes.subarray(i * 4096, (i + 1) * 4096));
    await pipeline(Readable.from(chunks), tap, new Writable({ highWaterMark: 1, write: (c: Buffer, _e, cb) => (out.push(c), setImmediate(cb)) }));
    assert.ok(Buffer.concat(out).equals(bytes));
    const fromTap = tap.digests();
    assert.equal(fromTap.problem, undefined);
    assert.deepEqual(fromTap.digests, { entries: (await digestArchiveFile(join(dir, 'packed.tar.gz'))).entries });
  });

  it('a stream that is not a tar still passes unchanged; the listing says why it is missing', async () => {
    const junk = Buffer.alloc(100_000, 0x41);
    const tap = new ArchiveDigestTap(true);
    const out: Buffer[] = [];
    await pipeline(Readable.from([junk]), tap, new Writable({ write: (c: Buffer, _e, cb) => (out.push(c), cb()) }));
    assert.ok(Buffer.concat(out).equals(junk));
    assert.equal(tap.digests().digests, undefined);
    assert.match(tap.digests().problem!, /header|gzip|incorrect/i);
  });

  it('the compact encoding gives back every field, names with newlines and non-UTF-8 bytes included', async () => {
    const listing = await digestArchiveFile(join(dir, 'plain.tar'));
    const encoded = encodeArchiveDigests(listing);
    assert.deepEqual(decodeArchiveDigests(encoded), { entries: listing.entries });
    // Digests are stored as raw bytes: about 32 bytes a file plus the compressed names.
    assert.ok(encoded.length < 32 * listing.entries.length + 600, `${encoded.length} bytes`);
  });

  it('a damaged archive keeps the entries before the damage and the checksum of the whole file', async () => {
    const bytes = readFileSync(join(dir, 'packed.tar.gz'));
    const cut = join(dir, 'cut.tar.gz');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 4));
    const listed = await digestArchiveFile(cut);
    assert.ok(listed.problem, 'the listing says it stopped');
    assert.equal(listed.sha256, sha(bytes.subarray(0, bytes.length - 4)));
  });

  it('shows names for people: UTF-8 as is, other bytes and control characters escaped', () => {
    assert.equal(displayName(Buffer.from('résumé', 'utf8').toString('latin1')), 'résumé');
    assert.equal(displayName('latin\xe9'), 'latin\\xe9');
    assert.equal(displayName('new\nline'), 'new\\nline');
  });
});
