import * as assert from 'node:assert/strict';
import { chartPoints } from '../../../src/report/chartPoints';
import { lastPage } from '../../../src/report/historyQuery';
import { knownVolumes, suggestedChartVolume } from '../../../src/report/knownVolumes';
import { HOSTILE_PVC, finishedRun, historyFixture, historyRows } from './reportFixtures';

describe('report data for the webview', () => {
  it('lists each volume once, from the history and the latest run, sorted', async () => {
    const volumes = knownVolumes(await historyRows([...historyFixture, ...historyFixture]), finishedRun());
    assert.deepEqual(
      volumes.map((v) => `${v.context}/${v.namespace}/${v.pvc}`),
      ['gke_shop-prod_europe-west1_main/billing/ledger', 'kind-dev/media/uploads', `kind-dev/shop/${HOSTILE_PVC}`, 'kind-dev/shop/postgres-data'],
    );
  });

  it('keeps rows recorded without a cluster as their own volumes', async () => {
    const volumes = knownVolumes(await historyRows([{ namespace: 'shop', pvcName: 'legacy', status: 'success' }]), undefined);
    assert.deepEqual(volumes, [{ context: null, namespace: 'shop', pvc: 'legacy' }]);
  });

  it('charts the latest run first volume, else the newest volume in the history', async () => {
    const rows = await historyRows(historyFixture);
    assert.deepEqual(suggestedChartVolume(rows, finishedRun()), { context: 'kind-dev', namespace: 'shop', pvc: 'postgres-data' });
    assert.deepEqual(suggestedChartVolume(rows, undefined), { context: 'kind-dev', namespace: 'shop', pvc: HOSTILE_PVC });
    assert.equal(suggestedChartVolume([], undefined), undefined);
  });

  it('turns history rows into chart points, oldest first, without restores or unfinished rows', async () => {
    const rows = await historyRows([
      { context: 'kind-dev', namespace: 'shop', pvcName: 'db', status: 'success', createdAt: '2026-11-26T08:00:00.000Z', sizeBytes: 100, durationMs: 900 },
      { context: 'kind-dev', namespace: 'shop', pvcName: 'db', status: 'failed', createdAt: '2026-11-27T08:00:00.000Z', durationMs: 300 },
      { context: 'kind-dev', namespace: 'shop', pvcName: 'db', status: 'success', operation: 'restore', createdAt: '2026-11-27T09:00:00.000Z', sizeBytes: 100 },
      { context: 'kind-dev', namespace: 'shop', pvcName: 'db', status: 'running', createdAt: '2026-11-28T08:00:00.000Z' },
    ]);
    assert.deepEqual(chartPoints(rows), [
      { at: '2026-11-26T08:00:00.000Z', status: 'success', sizeBytes: 100, durationMs: 900 },
      { at: '2026-11-27T08:00:00.000Z', status: 'failed', sizeBytes: null, durationMs: 300 },
    ]);
  });

  it('finds the last page that still has rows', () => {
    assert.equal(lastPage(0), 0);
    assert.equal(lastPage(20), 0);
    assert.equal(lastPage(21), 1);
    assert.equal(lastPage(57), 2);
  });
});
