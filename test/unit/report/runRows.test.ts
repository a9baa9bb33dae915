import * as assert from 'node:assert/strict';
import { runSummary } from '../../../src/core/backup/runReport';
import { actionableFailures } from '../../../src/core/report/actionableFailures';
import type { RunReport } from '../../../src/core/backup/runReport';
import { archiveFileName, canRerunFailed, runRowViews, runStatusText } from '../../../src/webview/report/runRows';
import { CHECKSUM, HOSTILE_PVC, finishedRun, runningRun } from './reportFixtures';

const latestOf = (run: RunReport) => ({ run, summary: runSummary(run), failures: actionableFailures(run) });

describe('latest run rows', () => {
  it('shows a finished volume with its outcome, short checksum and archive', () => {
    const [success] = runRowViews(finishedRun());
    assert.deepEqual(success, {
      key: JSON.stringify(['kind-dev', 'shop', 'postgres-data']),
      context: 'kind-dev',
      namespace: 'shop',
      pvc: 'postgres-data',
      state: 'success',
      outcome: { label: 'Backed up', icon: '✓' },
      stage: 'cleanup',
      duration: '9.9 s',
      size: '5.0 MiB',
      checksum: { short: '9f86d081884c…', full: CHECKSUM },
      archivePath: '/work/backups/kind-dev/shop/postgres-data-20261128T204155Z.tar.gz',
      archiveName: 'postgres-data-20261128T204155Z.tar.gz',
      progress: undefined,
      read: { consistency: undefined, consistencyNote: undefined, snapshotName: undefined, snapshotAt: undefined },
      hooks: [],
    });
  });

  it('shows bytes and rate while a volume is copied', () => {
    const [copying, queued] = runRowViews(runningRun());
    assert.equal(copying!.progress, '3.0 MiB at 1.5 MiB/s');
    assert.equal(copying!.size, '3.0 MiB');
    assert.equal(queued!.progress, undefined);
    assert.equal(queued!.outcome.label, 'Queued');
  });

  it('shows each stream, the parts done, the time left and what is sent again while a volume goes in parts', () => {
    const run = runningRun();
    run.rows[0]!.parallel = {
      bytes: 3 * 1024 * 1024,
      bytesPerSecond: 1.5 * 1024 * 1024,
      streams: [{ part: 3, bytesPerSecond: 1024 * 1024 }, { bytesPerSecond: 512 * 1024 }],
      parts: { done: 2, total: 9 },
      secondsLeft: 75,
      resuming: 'part 3 again from its first file (attempt 2 in 1 s): the stream broke after 100 bytes',
    };
    assert.equal(
      runRowViews(run)[0]!.progress,
      '3.0 MiB at 1.5 MiB/s · 2 streams (1.0 MiB, 512.0 KiB per second) · 2 of 9 parts done · about 1 min 15 s left · sending part 3 again from its first file (attempt 2 in 1 s): the stream broke after 100 bytes',
    );
  });

  it('names an archive by its file, on POSIX and Windows', () => {
    assert.equal(archiveFileName('/work/backups/kind-dev/shop/db-20261128T204155Z.tar.gz'), 'db-20261128T204155Z.tar.gz');
    assert.equal(archiveFileName('C:\\Users\\dev\\backups\\db.tar.gz'), 'db.tar.gz');
  });

  it('keeps hostile names as plain data', () => {
    assert.ok(runRowViews(finishedRun()).some((row) => row.pvc === HOSTILE_PVC));
  });

  it('announces progress by finished volumes, not by bytes', () => {
    assert.equal(runStatusText(latestOf(runningRun())), 'Run in progress: 0 of 2 volumes finished, 0 backed up.');
    assert.equal(runStatusText(latestOf(finishedRun())), 'Run finished: 1 backed up, 3 failed.');
  });

  it('offers "Re-run failed" once a run with failures is over', () => {
    assert.equal(canRerunFailed(latestOf(finishedRun())), true);
    assert.equal(canRerunFailed(latestOf(runningRun())), false);
    assert.equal(canRerunFailed(undefined), false);
  });
});
