import * as assert from 'node:assert/strict';
import type { DigestEntry } from '../../../src/core/archive/archiveDigests';
import { compareRestored, MAX_LISTED_DIFFERENCES } from '../../../src/core/drill/drillCompare';
import { parseDrillListing, type RestoredEntry } from '../../../src/core/drill/drillListing';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const ref = (name: string, extra: Partial<DigestEntry> = {}): DigestEntry => ({ name, type: 'file', size: 3, mode: 0o644, uid: 1000, gid: 1000, mtime: 0, sha256: A, ...extra });
const got = (name: string, extra: Partial<RestoredEntry> = {}): RestoredEntry => ({ name, type: 'file', size: 3, mode: 0o644, uid: 1000, gid: 1000, sha256: A, ...extra });

describe('Comparing a drill\'s restored volume with the backup-time listing', () => {
  it('a hard link is expected as the file it names; the root folder and lost+found are not compared', () => {
    const reference = [ref('', { type: 'directory', mode: 0o755 }), ref('data.bin'), ref('same.bin', { type: 'link', linkname: 'data.bin', size: 0, sha256: undefined })];
    const result = compareRestored(reference, [got('data.bin'), got('same.bin'), got('lost+found', { type: 'directory' })].filter((e) => e.name !== 'lost+found'));
    assert.equal(result.total, 0);
    assert.equal(result.compared, 2);
  });

  it('a hard link listed before the file it names (a listing sorted by name) is expected as that file', () => {
    const reference = [ref('a-link.bin', { type: 'link', linkname: 'data.bin', size: 0, sha256: undefined }), ref('data.bin', { size: 586 })];
    const result = compareRestored(reference, [got('a-link.bin', { size: 586 }), got('data.bin', { size: 586 })]);
    assert.deepEqual(result.differences, []);
  });

  it('names each kind of difference', () => {
    const reference = [ref('gone'), ref('flipped'), ref('short'), ref('mode'), ref('owner'), ref('link', { type: 'symlink', linkname: 'x', sha256: undefined, size: 0 }), ref('kind')];
    const restored = [
      got('flipped', { sha256: B }),
      got('short', { size: 2 }),
      got('mode', { mode: 0o600 }),
      got('owner', { uid: 0 }),
      got('link', { type: 'symlink', linkname: 'y', mode: 0o777, sha256: undefined }),
      got('kind', { type: 'directory' }),
      got('new'),
    ];
    const result = compareRestored(reference, restored);
    assert.deepEqual(result.differences.map((d) => `${d.kind} ${d.path}`), ['missing gone', 'content flipped', 'size short', 'mode mode', 'owner owner', 'link-target link', 'type kind', 'extra new']);
  });

  it('owners a non-root helper had to write as itself are counted, not reported; other owner changes are', () => {
    const result = compareRestored([ref('mine'), ref('root-owned', { uid: 0, gid: 0 })], [got('mine', { uid: 65534, gid: 65534 }), got('root-owned', { uid: 1, gid: 1 })], { helperUid: 65534 });
    assert.equal(result.ownersNotCompared, 1);
    assert.deepEqual(result.differences.map((d) => `${d.kind} ${d.path}`), ['owner root-owned']);
  });

  it('lists a bounded number of differences and counts them all', () => {
    const reference = Array.from({ length: 500 }, (_, i) => ref(`f${i}`));
    const result = compareRestored(reference, []);
    assert.equal(result.differences.length, MAX_LISTED_DIFFERENCES);
    assert.equal(result.total, 500);
    assert.deepEqual(result.counts, { missing: 500 });
  });

  it('reads the helper\'s NUL-separated records, names with newlines and link targets ending in a newline included', () => {
    const out = Buffer.concat([
      Buffer.from(`81a4 5 1 2\0./new\nline\0${A}  -\n\0`),
      Buffer.from('a1ff 9 0 0\0./link\0target\n\n\0'),
      Buffer.from('41ed 4096 0 0\0./dir\0\0'),
    ]);
    assert.deepEqual(parseDrillListing(out), [
      { name: 'new\nline', type: 'file', size: 5, mode: 0o644, uid: 1, gid: 2, sha256: A },
      { name: 'link', type: 'symlink', size: 0, mode: 0o777, uid: 0, gid: 0, linkname: 'target\n' },
      { name: 'dir', type: 'directory', size: 0, mode: 0o755, uid: 0, gid: 0 },
    ]);
    assert.throws(() => parseDrillListing(Buffer.from('81a4 5 1 2\0./cut')), /cut short/);
  });
});
