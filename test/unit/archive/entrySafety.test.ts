import * as assert from 'node:assert/strict';
import { normaliseEntryPath, unsafeEntryReason } from '../../../src/core/archive/entrySafety';

describe('unsafeEntryReason', () => {
  it('accepts ordinary files, folders, links inside the archive and fifos', () => {
    assert.equal(unsafeEntryReason({ path: './', type: 'directory' }), undefined);
    assert.equal(unsafeEntryReason({ path: './data/app.db', type: 'file' }), undefined);
    assert.equal(unsafeEntryReason({ path: 'data/../data/app.db', type: 'file' }), undefined);
    assert.equal(unsafeEntryReason({ path: 'logs/current', type: 'symlink', linkname: '../logs/2024.log' }), undefined);
    assert.equal(unsafeEntryReason({ path: 'a/b/c', type: 'symlink', linkname: '../../top.txt' }), undefined);
    assert.equal(unsafeEntryReason({ path: './copy', type: 'link', linkname: './data/app.db' }), undefined);
    assert.equal(unsafeEntryReason({ path: 'run/pipe', type: 'fifo' }), undefined);
  });

  it('refuses absolute paths, also Windows ones', () => {
    assert.match(unsafeEntryReason({ path: '/etc/passwd', type: 'file' }) ?? '', /absolute path/);
    assert.match(unsafeEntryReason({ path: 'C:\\Windows\\x', type: 'file' }) ?? '', /absolute path/);
    assert.match(unsafeEntryReason({ path: '\\\\server\\share\\x', type: 'file' }) ?? '', /absolute path/);
  });

  it('refuses a .. that climbs above the archive root, but not one that stays inside', () => {
    assert.match(unsafeEntryReason({ path: '../evil', type: 'file' }) ?? '', /outside the archive/);
    assert.match(unsafeEntryReason({ path: './a/../../evil', type: 'directory' }) ?? '', /outside the archive/);
    assert.match(unsafeEntryReason({ path: 'a\\..\\..\\evil', type: 'file' }) ?? '', /outside the archive/);
    assert.equal(unsafeEntryReason({ path: 'a/b/../../c', type: 'file' }), undefined);
  });

  it('refuses symlinks that are absolute or resolve outside from the link folder', () => {
    assert.match(unsafeEntryReason({ path: 'etc', type: 'symlink', linkname: '/etc' }) ?? '', /absolute/);
    assert.match(unsafeEntryReason({ path: 'up', type: 'symlink', linkname: '..' }) ?? '', /outside the archive/);
    assert.match(unsafeEntryReason({ path: 'a/b', type: 'symlink', linkname: '../../x' }) ?? '', /outside the archive/);
    assert.match(unsafeEntryReason({ path: 'a', type: 'symlink', linkname: '' }) ?? '', /without a target/);
  });

  it('refuses hard links outside the archive (resolved from the root, not the link folder)', () => {
    assert.match(unsafeEntryReason({ path: 'x', type: 'link', linkname: '/etc/shadow' }) ?? '', /absolute/);
    assert.match(unsafeEntryReason({ path: 'a/b/x', type: 'link', linkname: '../y' }) ?? '', /outside the archive/);
  });

  it('refuses device files and unknown entry types', () => {
    assert.match(unsafeEntryReason({ path: 'dev/sda', type: 'block-device' }) ?? '', /device file/);
    assert.match(unsafeEntryReason({ path: 'dev/null', type: 'character-device' }) ?? '', /device file/);
    assert.match(unsafeEntryReason({ path: 'x', type: 'null' }) ?? '', /unsupported entry type/);
  });
});

describe('normaliseEntryPath', () => {
  it('drops ./ and trailing slashes so browse paths match what the user sees', () => {
    assert.equal(normaliseEntryPath('./data/'), 'data');
    assert.equal(normaliseEntryPath('./'), '');
    assert.equal(normaliseEntryPath('a//b/./c'), 'a/b/c');
  });
});
