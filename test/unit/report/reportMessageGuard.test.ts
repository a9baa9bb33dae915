import * as assert from 'node:assert/strict';
import { cleanFilter, historyPageQuery } from '../../../src/report/historyQuery';
import { isReportWebviewMessage } from '../../../src/report/reportMessageGuard';

describe('messages from the report webview', () => {
  it('accepts every message the protocol defines', () => {
    const valid: unknown[] = [
      { type: 'ready' },
      { type: 'ready', ui: { filter: { context: 'kind-dev', status: 'failed' }, page: 2, chart: { context: 'kind-dev', namespace: 'shop', pvc: 'db' } } },
      { type: 'queryHistory', filter: {}, page: 0 },
      { type: 'queryHistory', filter: { namespace: 'shop', pvc: 'postgres-data', status: 'partial' }, page: 3 },
      { type: 'chartFor', context: 'kind-dev', namespace: 'shop', pvc: 'postgres-data' },
      { type: 'copyText', text: 'kubectl -n shop get events --sort-by=.lastTimestamp | tail -n 40' },
      { type: 'revealArchive', path: '/work/backups/kind-dev/shop/postgres-data-20261128T204155Z.tar.gz' },
      { type: 'openArchiveFolder' },
      { type: 'exportReport', format: 'json' },
      { type: 'exportReport', format: 'markdown' },
      { type: 'rerunFailed' },
      { type: 'restoreBackup', historyId: 12 },
      { type: 'verifyBackup', historyId: 1 },
      { type: 'consolidateBackup', historyId: 7 },
    ];
    for (const message of valid) assert.ok(isReportWebviewMessage(message), JSON.stringify(message));
  });

  it('refuses anything else', () => {
    const invalid: unknown[] = [
      null,
      'ready',
      [],
      {},
      { type: 'runCommand', command: 'workbench.action.terminal.new' },
      { type: 'queryHistory', filter: {}, page: -1 },
      { type: 'queryHistory', filter: {}, page: 1.5 },
      { type: 'queryHistory', filter: {}, page: '2' },
      { type: 'queryHistory', filter: { status: 'deleted' }, page: 0 },
      { type: 'queryHistory', filter: { context: 42 }, page: 0 },
      { type: 'queryHistory', filter: { namespace: '' }, page: 0 },
      { type: 'queryHistory', page: 0 },
      { type: 'chartFor', context: 'kind-dev', namespace: 'shop' },
      { type: 'copyText', text: '' },
      { type: 'copyText', text: 'x'.repeat(64 * 1024 + 1) },
      { type: 'revealArchive', path: ['/etc/passwd'] },
      { type: 'exportReport', format: 'html' },
      { type: 'ready', ui: { filter: {}, page: -3 } },
      { type: 'restoreBackup', historyId: 0 },
      { type: 'restoreBackup', historyId: '12' },
      { type: 'verifyBackup', historyId: 1.5 },
      { type: 'verifyBackup' },
      { type: 'consolidateBackup', historyId: -7 },
    ];
    for (const message of invalid) assert.equal(isReportWebviewMessage(message), false, JSON.stringify(message));
  });

  it('passes only the filter fields on to the history query', () => {
    const fromWebview = { namespace: 'shop', limit: 1_000_000, runId: 'x', operation: 'restore' } as unknown as Parameters<typeof cleanFilter>[0];
    assert.ok(isReportWebviewMessage({ type: 'queryHistory', filter: fromWebview, page: 1 }));
    assert.deepEqual(historyPageQuery(fromWebview, 1), { namespace: 'shop', limit: 20, offset: 20 });
  });
});
