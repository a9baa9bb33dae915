import assert from 'node:assert/strict';
import { DEFAULT_ARCHIVE_SETTINGS, resolveArchiveSettings } from '../../../src/core/config/archiveSettings';
import { SettingsError } from '../../../src/core/config/settingsError';

function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (e) {
    if (e instanceof SettingsError) return e.problems.map((p) => p.message);
    throw e;
  }
  assert.fail('expected a SettingsError');
}

describe('compression and include/exclude settings', () => {
  it('defaults to gzip in the pod at level 6 over the whole volume', () => {
    assert.deepEqual(resolveArchiveSettings({}, {}), DEFAULT_ARCHIVE_SETTINGS);
    assert.deepEqual(resolveArchiveSettings({ compression: '', backupInclude: [] }, { NKVM_COMPRESSION: ' ' }), DEFAULT_ARCHIVE_SETTINGS);
  });

  it('takes settings, and variables over settings', () => {
    const s = resolveArchiveSettings({ compression: 'none', compressionLevel: 9, backupExclude: ['cache/'] }, { NKVM_COMPRESSION: 'pod-gzip', NKVM_COMPRESSION_LEVEL: '1', NKVM_BACKUP_INCLUDE: 'data, ./logs/*.log' });
    assert.deepEqual(s, {
      compression: 'pod-gzip',
      compressionLevel: 1,
      backupInclude: ['data', 'logs/*.log'],
      backupExclude: ['cache'],
      consistency: 'auto',
      snapshotTimeoutSeconds: 300,
      snapshotStorageClass: '',
      incremental: 'auto',
      fullEvery: 7,
      streams: 'auto',
    });
  });

  it('reads the number of streams as the settings dropdown and the variable give it, and names bad values', () => {
    assert.equal(resolveArchiveSettings({ streams: '4' }, {}).streams, 4);
    assert.equal(resolveArchiveSettings({ streams: '4' }, { NKVM_BACKUP_STREAMS: 'auto' }).streams, 'auto');
    const messages = problems(() => resolveArchiveSettings({ streams: 9 }, {}));
    assert.match(messages[0]!, /^nkvm\.backup\.streams must be "auto" or a whole number from 1 to 8, got 9/);
  });

  it('reads the incremental policy and the run length, the variables winning, and names bad values', () => {
    const s = resolveArchiveSettings({ incremental: 'auto', fullEvery: 3 }, { NKVM_BACKUP_INCREMENTAL: 'never', NKVM_BACKUP_FULL_EVERY: '0' });
    assert.deepEqual([s.incremental, s.fullEvery], ['never', 0]);
    const messages = problems(() => resolveArchiveSettings({ incremental: 'always', fullEvery: -1 }, {}));
    assert.match(messages[0]!, /^nkvm\.backup\.incremental must be "auto" or "never", got "always"/);
    assert.match(messages[1]!, /^nkvm\.backup\.fullEvery must be a whole number from 0 to 1000/);
  });

  it('reads the consistency mode and snapshot settings, the variable winning, and names bad values', () => {
    const s = resolveArchiveSettings({ consistency: 'live', snapshotTimeoutSeconds: 60, snapshotStorageClass: 'fast-csi' }, { NKVM_BACKUP_CONSISTENCY: 'snapshot' });
    assert.deepEqual([s.consistency, s.snapshotTimeoutSeconds, s.snapshotStorageClass], ['snapshot', 60, 'fast-csi']);
    const messages = problems(() => resolveArchiveSettings({ consistency: 'crash', snapshotStorageClass: 'Fast_CSI' }, { NKVM_BACKUP_SNAPSHOT_TIMEOUT_SECONDS: '2' }));
    assert.match(messages[0]!, /^nkvm\.backup\.consistency must be "auto", "snapshot" or "live", got "crash"/);
    assert.match(messages[1]!, /^NKVM_BACKUP_SNAPSHOT_TIMEOUT_SECONDS must be a whole number of seconds from 5 to 86400, got "2"/);
    assert.match(messages[2]!, /^nkvm\.backup\.snapshotStorageClass must be a storage class name/);
  });

  it('reads a JSON array from a variable, for names that hold commas', () => {
    assert.deepEqual(resolveArchiveSettings({}, { NKVM_BACKUP_EXCLUDE: '["a,b.txt", "my dir"]' }).backupExclude, ['a,b.txt', 'my dir']);
  });

  it('names every bad value at once: unknown mode, level out of range, absolute paths and ..', () => {
    const messages = problems(() => resolveArchiveSettings({ compression: 'zstd', compressionLevel: 0, backupInclude: ['/etc/passwd'] }, { NKVM_BACKUP_EXCLUDE: 'ok,../secrets' }));
    assert.equal(messages.length, 4);
    assert.match(messages[0], /^nkvm\.compression must be "pod-gzip", "local-gzip" or "none", got "zstd"/);
    assert.match(messages[1], /^nkvm\.compressionLevel must be a whole number from 1 to 9, got 0/);
    assert.match(messages[2], /^nkvm\.backup\.include must be .*"\/etc\/passwd" is absolute/);
    assert.match(messages[3], /^NKVM_BACKUP_EXCLUDE must be .*"\.\.\/secrets" climbs out with \.\./);
  });

  it('refuses the volume root, empty entries and a level given as a fraction', () => {
    assert.match(problems(() => resolveArchiveSettings({ backupInclude: ['./'] }, {}))[0], /names the volume root itself/);
    assert.match(problems(() => resolveArchiveSettings({ backupExclude: ['  '] }, {}))[0], /is empty/);
    assert.match(problems(() => resolveArchiveSettings({}, { NKVM_COMPRESSION_LEVEL: '6.5' }))[0], /^NKVM_COMPRESSION_LEVEL must be a whole number/);
  });
});
