import assert from 'node:assert/strict';
import { describeHookRun, hookRunsFromHistory, hookRunsToHistory, type HookRun } from '../../../src/core/hooks/hookRun';
import { OutputTail } from '../../../src/core/hooks/outputTail';

const base: HookRun = {
  phase: 'pre',
  namespace: 'shop',
  pod: 'orders-db-0',
  container: 'postgres',
  command: ['/bin/sh', '-c', 'psql -c CHECKPOINT'],
  source: 'annotation',
  onError: 'Fail',
  exitCode: 0,
  stdout: 'CHECKPOINT\n',
  stdoutCutBytes: 0,
  stderr: '',
  stderrCutBytes: 0,
  startedAt: '2026-12-03T16:00:00.000Z',
  durationMs: 412,
  outcome: 'ok',
  message: 'exit 0',
};

describe('hook runs in reports and the history', () => {
  it('says in one line where each hook ran and how it ended', () => {
    assert.equal(describeHookRun(base), 'pre hook in shop/orders-db-0 (postgres): exit 0 in 0.4 s');
    assert.equal(describeHookRun({ ...base, outcome: 'failed', exitCode: 3, onError: 'Continue' }), 'pre hook in shop/orders-db-0 (postgres): exit 3 in 0.4 s (on-error Continue: the backup went on)');
    assert.equal(describeHookRun({ ...base, phase: 'post', outcome: 'timed-out', exitCode: null, message: 'timed out after 30s' }), 'post hook in shop/orders-db-0 (postgres): timed out after 30s');
    assert.equal(describeHookRun({ ...base, container: '', outcome: 'failed', exitCode: null, message: 'pod shop/orders-db-0 is Pending, not Running' }), 'pre hook in shop/orders-db-0: pod shop/orders-db-0 is Pending, not Running');
  });

  it('stores the runs as JSON, nothing when none ran, and reads them back', () => {
    assert.equal(hookRunsToHistory([]), null);
    assert.deepEqual(hookRunsFromHistory(hookRunsToHistory([base])), [base]);
    assert.deepEqual(hookRunsFromHistory('not json'), []);
    assert.deepEqual(hookRunsFromHistory(null), []);
  });

  it('keeps the end of long output without a character broken by the cut', () => {
    const tail = new OutputTail(8);
    tail.push(Buffer.from('start '));
    tail.push(Buffer.from('é'.repeat(5)));
    // 16 bytes written; the last 8 are four whole é.
    assert.equal(tail.text(), 'éééé');
    assert.equal(tail.cutBytes, 8);
    tail.push(Buffer.from('!'));
    // Now the kept 8 bytes start inside an é: that half is dropped, not shown as garbage.
    assert.equal(tail.text(), 'ééé!');
  });
});
