import * as assert from 'node:assert/strict';
import { actionableFailures } from '../../../src/core/report/actionableFailures';
import { backupReadLines, consistencyLabel } from '../../../src/core/report/backupReadText';
import { historyHookRuns } from '../../../src/core/report/reportHookRuns';
import { backupStageInWords } from '../../../src/core/report/stageText';
import { runRowViews } from '../../../src/webview/report/runRows';
import { HOSTILE_STDERR, LIVE_NOTE, SNAPSHOT_AT, SNAPSHOT_NAME, historyRows, readHistoryFixture, readRun } from './reportFixtures';

describe('how a backup read its volume, and its hooks, in the tree and the report', () => {
  it('labels a history row snapshot with its time or live, and lists the hooks that ran in the tooltip', async () => {
    const [ledger, reports, orders] = await historyRows(readHistoryFixture);
    assert.equal(consistencyLabel(orders!), `snapshot ${SNAPSHOT_AT}`);
    assert.equal(consistencyLabel(orders!, (iso) => iso.slice(11, 19)), 'snapshot 20:42:01');
    assert.equal(consistencyLabel(reports!), 'live');
    assert.equal(consistencyLabel(ledger!), undefined, 'a backup that failed before deciding says nothing');
    assert.deepEqual(backupReadLines(orders!), [
      `Point in time: read from VolumeSnapshot ${SNAPSHOT_NAME} taken ${SNAPSHOT_AT}.`,
      'Hooks:',
      '  pre hook in shop/orders-db-0 (postgres): exit 0 in 0.4 s',
      '  post hook in shop/orders-db-0 (postgres): exit 0 in 0.1 s',
    ]);
    assert.deepEqual(backupReadLines(reports!), ['Read live: the volume was read while its workload could write to it.']);
    assert.deepEqual(backupReadLines(ledger!), ['Hooks:', '  pre hook in shop/ledger-db-0 (postgres): exit 3 in 0.4 s']);
  });

  it('reads the hooks of a history row for the report, with one line each, and none from a value it cannot read', async () => {
    const [ledger, reports] = await historyRows(readHistoryFixture);
    const [run] = historyHookRuns(ledger!);
    assert.equal(run!.summary, 'pre hook in shop/ledger-db-0 (postgres): exit 3 in 0.4 s');
    assert.equal(run!.stderr, HOSTILE_STDERR);
    assert.deepEqual(historyHookRuns(reports!), []);
    assert.deepEqual(historyHookRuns({ hooks: '{"not": "a list"}' }), []);
  });

  it('carries the consistency, the live note and the hooks of each volume of the latest run into its row and its failure', () => {
    const [orders, reports, ledger] = runRowViews(readRun());
    assert.deepEqual(orders!.read, { consistency: 'snapshot', consistencyNote: undefined, snapshotName: SNAPSHOT_NAME, snapshotAt: SNAPSHOT_AT });
    assert.deepEqual(orders!.hooks.map((h) => h.summary), ['pre hook in shop/orders-db-0 (postgres): exit 0 in 0.4 s', 'post hook in shop/orders-db-0 (postgres): exit 0 in 0.1 s']);
    assert.deepEqual(reports!.read, { consistency: 'live', consistencyNote: LIVE_NOTE, snapshotName: undefined, snapshotAt: undefined });
    assert.equal(ledger!.read.consistency, undefined);

    const [failure] = actionableFailures(readRun());
    assert.equal(failure!.pvc, 'data-ledger-db-0');
    assert.equal(failure!.stage, 'hook');
    assert.deepEqual(failure!.hooks.map((h) => [h.phase, h.outcome, h.stderrCutBytes]), [['pre', 'failed', 1200], ['post', 'ok', 0]]);
    assert.ok(failure!.triageCommands.some((c) => c.command === 'kubectl --context kind-dev -n shop describe pod ledger-db-0'));
  });

  it('puts the new stages into words for progress lines', () => {
    assert.equal(backupStageInWords('hook'), 'running application hooks');
    assert.equal(backupStageInWords('snapshot'), 'taking a snapshot');
    assert.equal(backupStageInWords('clone'), 'making a claim from the snapshot');
    assert.equal(backupStageInWords('copy'), 'copying');
    assert.equal(backupStageInWords('toString'), 'toString');
  });
});
