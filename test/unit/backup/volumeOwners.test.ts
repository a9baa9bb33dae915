import assert from 'node:assert/strict';
import { decideOwner, describeOwners, parseVolumeOwners } from '../../../src/core/backup/volumeOwners';

const probe = (...lines: string[]) => parseVolumeOwners(`${lines.map((l) => `nkvm-owner ${l}`).join('\n')}\n`);

describe('volume owners', () => {
  it('counts the owners of the entries at the top of the volume, the root folder apart', () => {
    const found = probe('root 0 0 755', 'entry 999 999', 'entry 999 999', 'entry 999 1000');
    assert.deepEqual(found.root, { uid: 0, gid: 0, mode: 0o755 });
    assert.deepEqual(found.owners, [
      { uid: 999, gid: 999, entries: 2 },
      { uid: 999, gid: 1000, entries: 1 },
    ]);
    assert.equal(describeOwners(found), 'uid 999 (3 entries)');
  });

  it('runs as the one non-root owner of a scaled-down database volume, with its most common group', () => {
    assert.deepEqual(decideOwner(probe('root 0 0 755', 'entry 999 999', 'entry 999 999', 'entry 999 5'), 65534), { kind: 'owner', uid: 999, gid: 999 });
  });

  it('keeps the helper user when it already owns everything, or when the volume is empty', () => {
    assert.deepEqual(decideOwner(probe('root 0 0 755', 'entry 65534 65534'), 65534), { kind: 'keep' });
    assert.deepEqual(decideOwner(probe('root 0 0 755'), 65534), { kind: 'keep' });
  });

  it('says root or a mix of users own files: only root reads them all', () => {
    assert.deepEqual(decideOwner(probe('root 0 0 755', 'entry 0 0', 'entry 999 999'), 65534), { kind: 'mixed', uids: [0, 999] });
    assert.deepEqual(decideOwner(probe('root 0 0 755', 'entry 0 0'), 65534), { kind: 'mixed', uids: [0] });
    assert.equal(describeOwners(probe('entry 0 0', 'entry 999 999', 'entry 999 999')), 'uid 999 (2 entries), uid 0 (root) (1 entry)');
  });

  it('ignores lines that are not its own (a shell profile may print things)', () => {
    assert.deepEqual(parseVolumeOwners('welcome\nnkvm-owner entry x y\nnkvm-owner entry 5 6\n').owners, [{ uid: 5, gid: 6, entries: 1 }]);
  });
});
