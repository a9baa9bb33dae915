import * as assert from 'node:assert/strict';
import { reportToJson, reportToMarkdown } from '../../../src/core/report/reportExport';
import { CHECKSUM, GKE_CONTEXT, HOSTILE_PVC, LIVE_NOTE, SNAPSHOT_AT, SNAPSHOT_NAME, fellBack, finishedRun, historyFixture, historyRows, readHistoryFixture, readRun, runningRun, snapshotted } from './reportFixtures';

const generatedAt = new Date('2026-11-28T21:00:00.000Z');

/** The lines between a `## ` heading and the next one. */
function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  assert.notEqual(start, -1, `no "## ${title}" section`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

/** Table rows as cells, splitting only on pipes that are not escaped. */
function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('| '))
    .map((line) => line.slice(2, -2).split(/(?<!\\) \| /));
}

describe('report export', () => {
  describe('Markdown', () => {
    it('has the runbook three sections, in order', async () => {
      const markdown = reportToMarkdown(finishedRun(), await historyRows(historyFixture), { generatedAt });
      const headings = markdown.split('\n').filter((line) => line.startsWith('## '));
      assert.deepEqual(headings, ['## Latest Backup Run', '## Actionable Failures', '## Recent Backup History']);
      assert.match(markdown, /Generated 2026-11-28T21:00:00\.000Z/);
    });

    it('lists every volume of the latest run with outcome, size and full checksum', () => {
      const rows = tableRows(section(reportToMarkdown(finishedRun(), [], { generatedAt }), 'Latest Backup Run'));
      assert.deepEqual(rows[0], ['Cluster', 'Namespace', 'PVC', 'Outcome', 'Stage', 'Read', 'Hooks', 'Duration', 'Size', 'SHA-256', 'Archive']);
      assert.equal(rows.length, 1 + 4, 'the header and four volumes');
      const success = rows.find((cells) => cells[2] === 'postgres-data');
      assert.deepEqual(success?.slice(0, 5), ['kind-dev', 'shop', 'postgres-data', 'Backed up', 'cleanup']);
      assert.deepEqual(success?.slice(7), ['9.9 s', '5.0 MiB', CHECKSUM, '/work/backups/kind-dev/shop/postgres-data-20261128T204155Z.tar.gz']);
    });

    it('shows a PVC named like an HTML tag as text, never as markup', async () => {
      const markdown = reportToMarkdown(finishedRun(), await historyRows(historyFixture), { generatedAt });
      assert.ok(!markdown.includes(HOSTILE_PVC), 'the raw tag must not appear anywhere');
      assert.ok(!/(?<!\\)<img/i.test(markdown), 'every < before img is escaped');
      assert.ok(markdown.includes('\\<img src=x onerror=alert(1)\\>'));
    });

    it('keeps a message with pipes and a line break inside one table cell', async () => {
      const history = section(reportToMarkdown(undefined, await historyRows(historyFixture), { generatedAt }), 'Recent Backup History');
      const rows = tableRows(history);
      const failed = rows.find((cells) => cells[4] === 'Failed');
      assert.ok(failed, 'the failed row is in the table');
      assert.equal(failed.length, rows[0]!.length, 'the pipes in the message did not add columns');
      assert.equal(
        failed[10],
        'wait stage failed: the helper pod could not be scheduled. Events: Warning FailedScheduling: 0/3 nodes \\| Warning BackOff: pulling<br>image',
      );
    });

    it('escapes cluster names so underscores do not turn into emphasis', () => {
      const failures = section(reportToMarkdown(finishedRun(), [], { generatedAt }), 'Actionable Failures');
      assert.ok(failures.includes('cluster gke\\_shop-prod\\_europe-west1\\_main'));
      assert.ok(!failures.includes(`cluster ${GKE_CONTEXT}`));
    });

    it('gives each failure its stage, cause, next step, pod events and triage commands', () => {
      const failures = section(reportToMarkdown(finishedRun(), [], { generatedAt }), 'Actionable Failures');
      const ledger = failures.slice(failures.indexOf('billing/ledger'), failures.indexOf('### ', failures.indexOf('billing/ledger')));
      assert.match(ledger, /- \*\*Stage:\*\* wait\n/);
      assert.match(ledger, /- \*\*Cause:\*\* wait stage failed: the helper pod could not be scheduled\. Events: Warning FailedScheduling: .* \\\| Warning/);
      assert.match(ledger, /- \*\*Next step:\*\* Read the helper pod's events above/);
      assert.match(ledger, /  > Warning FailedScheduling: 0\/3 nodes are available: 3 Insufficient memory/);
      assert.ok(ledger.includes('```sh\n'));
      assert.ok(ledger.includes(`kubectl --context ${GKE_CONTEXT} -n billing get events --sort-by=.lastTimestamp | tail -n 40`));
      assert.ok(ledger.includes(`kubectl --context ${GKE_CONTEXT} auth can-i create pods --subresource=exec --namespace billing`));
      assert.ok(!ledger.includes('delete pod'), 'only cleanup failures get the delete command');
    });

    it('tells how to remove the helper pod a cleanup failure left behind', () => {
      const failures = section(reportToMarkdown(finishedRun(), [], { generatedAt }), 'Actionable Failures');
      assert.ok(failures.includes('kubectl --context kind-dev -n media delete pod nkvm-backup-uploads-5d2e --ignore-not-found'));
    });

    it('says so when there is no run and no history', () => {
      const markdown = reportToMarkdown(undefined, [], { generatedAt });
      assert.match(section(markdown, 'Latest Backup Run'), /No backup has run in this window yet\./);
      assert.match(section(markdown, 'Recent Backup History'), /No history yet\./);
      assert.ok(!markdown.includes('|'));
    });

    it('says how each backup read its volume and which hooks ran, with a failed hook\'s output as text', async () => {
      const markdown = reportToMarkdown(readRun(), await historyRows(readHistoryFixture), { generatedAt });
      const latest = tableRows(section(markdown, 'Latest Backup Run'));
      const byPvc = (pvc: string) => latest.find((cells) => cells[2] === pvc)!;
      assert.equal(byPvc(snapshotted.pvc)[5], `snapshot ${SNAPSHOT_NAME} at ${SNAPSHOT_AT}`);
      assert.match(byPvc(snapshotted.pvc)[6]!, /^pre hook in shop\/.*exit 0 in .*; post hook in/);
      assert.equal(byPvc(fellBack.pvc)[5], `live (auto: ${LIVE_NOTE})`);
      const failures = section(markdown, 'Actionable Failures');
      assert.match(failures, /- \*\*Hooks:\*\*\n {2}- pre hook in shop\/ledger-db-0 .*exit 3/);
      assert.ok(!failures.includes('<script>'), 'the hook output is escaped');
      assert.match(tableRows(section(markdown, 'Recent Backup History')).map((r) => r[6]).join('\n'), /^snapshot /m);
    });

    it('reports a run still in progress with the bytes copied so far', () => {
      const latest = section(reportToMarkdown(runningRun(), [], { generatedAt }), 'Latest Backup Run');
      assert.match(latest, /still running/);
      assert.ok(tableRows(latest).some((cells) => cells[2] === 'thumbnails' && cells[3] === 'Running' && cells[8] === '3.0 MiB'));
    });
  });

  describe('JSON', () => {
    it('carries the run, its failures with triage commands, and the history rows', async () => {
      const history = await historyRows(historyFixture);
      const parsed = JSON.parse(reportToJson(finishedRun(), history, { generatedAt }));
      assert.equal(parsed.kind, 'nkvm-backup-report');
      assert.equal(parsed.generatedAt, '2026-11-28T21:00:00.000Z');
      assert.equal(parsed.latestBackupRun.summary, '1 backed up, 3 failed');
      assert.equal(parsed.latestBackupRun.rows.length, 4);
      assert.deepEqual(
        parsed.actionableFailures.map((f: { pvc: string; stage: string }) => [f.pvc, f.stage]),
        [
          ['ledger', 'wait'],
          [HOSTILE_PVC, 'create'],
          ['uploads', 'cleanup'],
        ],
      );
      assert.equal(parsed.actionableFailures[0].events.length, 2);
      assert.ok(parsed.actionableFailures[2].triageCommands.some((c: { command: string }) => c.command.endsWith('delete pod nkvm-backup-uploads-5d2e --ignore-not-found')));
      assert.deepEqual(parsed.recentBackupHistory, JSON.parse(JSON.stringify(history)));
    });

    it('is valid JSON with null for a window that has not run a backup', () => {
      const parsed = JSON.parse(reportToJson(undefined, [], { generatedAt }));
      assert.equal(parsed.latestBackupRun, null);
      assert.deepEqual(parsed.actionableFailures, []);
      assert.deepEqual(parsed.recentBackupHistory, []);
    });
  });
});
