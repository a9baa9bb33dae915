import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEPT_HEAD_LINES, KEPT_TAIL_LINES, KEPT_UNREADABLE_PATHS, keptLines, summarizeStderr, TarStderr, tarOutcome } from '../../../src/core/backup/tarStderr';
import { partialOutcome } from '../../../src/core/backup/unreadablePaths';

/** Runs a tar of `dir` as nobody, as a non-root helper would, into a pipe; its exit status and stderr. */
function tarAsNobody(dir: string, tar: readonly string[]): { status: number | null; stderr: string } {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', ...tar, '-C', dir, '-cf', '-', '.'], { maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stderr: r.stderr.toString('utf8') };
}

describe('reading tar’s stderr in bounded memory, and what its exit status means', function () {
  this.timeout(60_000);
  let dir: string;
  before(function () {
    if (process.getuid?.() !== 0) this.skip(); // files of another owner need root to create
    dir = mkdtempSync(join(tmpdir(), 'nkvm-tar-stderr-'));
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'open'));
    writeFileSync(join(dir, 'open', 'readme.txt'), 'hello\n');
    mkdirSync(join(dir, 'locked'));
    for (let i = 0; i < 300; i++) {
      const file = join(dir, 'locked', `secret-${String(i).padStart(4, '0')}.key`);
      writeFileSync(file, 'x');
      chmodSync(file, 0);
    }
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  for (const [name, tar, exit] of [
    ['GNU tar', ['tar'], 2],
    ['BusyBox tar', ['busybox', 'tar'], 1],
  ] as const) {
    it(`${name}: 300 unreadable files are counted, the first named, and only ${KEPT_HEAD_LINES + KEPT_TAIL_LINES} lines kept; exit ${exit} is partial`, () => {
      const { status, stderr } = tarAsNobody(dir, tar);
      assert.equal(status, exit, `${name} exits ${exit} on unreadable files`);
      const summary = summarizeStderr(stderr);
      assert.equal(summary.unreadable.count, 300);
      assert.equal(summary.unreadable.paths.length, KEPT_UNREADABLE_PATHS);
      assert.match(summary.unreadable.paths[0], /^locked\/secret-\d{4}\.key$/);
      assert.equal(summary.otherErrors, 0);
      const kept = keptLines(summary);
      assert.equal(kept.length, KEPT_HEAD_LINES + 1 + KEPT_TAIL_LINES);
      assert.match(kept[KEPT_HEAD_LINES], /more lines not kept/);
      assert.equal(tarOutcome(exit, summary), 'partial');
      const outcome = partialOutcome(summary, 'uid 65534');
      assert.match(outcome.message, /^Partial backup: 300 unreadable files, first ones: locked\/secret-\d{4}\.key, /);
      assert.ok(outcome.message.length < 500, outcome.message);
    });
  }

  it('exit 2 with any other error is a failure, and exit 2 without messages too', () => {
    const gnuOther = summarizeStderr("tar: ./a: Cannot open: Permission denied\ntar: ./b: Read error at byte 0, while reading 512 bytes: Input/output error\ntar: Exiting with failure status due to previous errors\n");
    assert.equal(tarOutcome(2, gnuOther), 'failed');
    assert.equal(tarOutcome(2, summarizeStderr('')), 'failed');
    assert.equal(tarOutcome(2, summarizeStderr('nkvm: gzip failed in the helper pod\n')), 'failed');
    assert.equal(tarOutcome(2, summarizeStderr('tar: ./log: file changed as we read it\n')), 'partial');
    assert.equal(tarOutcome(0, summarizeStderr('')), 'complete');
  });

  it('exit 1 is partial for files that changed or could not be read, but a failure when tar died midway', () => {
    // BusyBox tar exits 1 both when a file could not be read and when it gives up: the archive then lacks the rest.
    assert.equal(tarOutcome(1, summarizeStderr("tar: can't open './a': Permission denied\n")), 'partial');
    assert.equal(tarOutcome(1, summarizeStderr('')), 'partial');
    assert.equal(tarOutcome(1, summarizeStderr('tar: short read\n')), 'failed');
    assert.equal(tarOutcome(1, summarizeStderr("tar: can't open './a': Permission denied\ntar: ./big.db: Input/output error\n")), 'failed');
    // GNU tar exits 1 for files that shrank or vanished while it read them.
    assert.equal(tarOutcome(1, summarizeStderr('tar: ./wal.log: File shrank by 4096 bytes; padding with zeros\n')), 'partial');
    assert.equal(tarOutcome(1, summarizeStderr('tar: ./tmp/x: File removed before we read it\n')), 'partial');
    // A name an incremental backup asks for that was deleted after the listing: BusyBox exits 1, GNU tar 2.
    assert.equal(tarOutcome(1, summarizeStderr('tar: ./tmp/y: No such file or directory\ntar: error exit delayed from previous errors\n')), 'partial');
    assert.equal(tarOutcome(2, summarizeStderr('tar: ./tmp/y: Cannot stat: No such file or directory\ntar: Exiting with failure status due to previous errors\n')), 'partial');
  });

  it('keeps the trailer out of the messages and cuts a line that never ends', () => {
    const collector = new TarStderr();
    const sha = 'a'.repeat(64);
    collector.write(Buffer.from('tar: ./x: Cannot open: Permission denied\n'));
    for (let i = 0; i < 1000; i++) collector.write(Buffer.alloc(10_000, 0x41));
    collector.write(Buffer.from(`\nnkvm-trailer sha256=${sha} tar-exit=2\n`));
    const summary = collector.end();
    assert.deepEqual(summary.trailer, { sha256: sha, tarExit: 2 });
    assert.equal(summary.lines, 2);
    assert.ok(keptLines(summary).every((l) => l.length <= 1000));
  });
});
