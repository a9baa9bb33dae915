import * as assert from 'node:assert/strict';
import type { KnownVolume } from '../../../src/report/reportProtocol';
import { chartChoices, filterChoices, hasNextPage, narrowFilter, pageLabel } from '../../../src/webview/report/historyView';

const known: KnownVolume[] = [
  { context: 'kind-dev', namespace: 'shop', pvc: 'postgres-data' },
  { context: 'kind-dev', namespace: 'shop', pvc: 'redis-data' },
  { context: 'kind-dev', namespace: 'media', pvc: 'uploads' },
  { context: 'prod', namespace: 'shop', pvc: 'orders' },
  { context: null, namespace: 'legacy', pvc: 'old' },
];

describe('history view', () => {
  it('labels pages like "21–40 of 57"', () => {
    assert.equal(pageLabel(0, 20, 57), '1–20 of 57');
    assert.equal(pageLabel(1, 20, 57), '21–40 of 57');
    assert.equal(pageLabel(2, 20, 57), '41–57 of 57');
    assert.equal(pageLabel(0, 20, 0), '0 of 0');
  });

  it('offers Next only while rows remain', () => {
    assert.equal(hasNextPage(1, 20, 57), true);
    assert.equal(hasNextPage(2, 20, 57), false);
    assert.equal(hasNextPage(0, 20, 20), false);
  });

  it('narrows namespaces and PVCs to the chosen cluster and namespace', () => {
    assert.deepEqual(filterChoices(known, {}), {
      contexts: ['kind-dev', 'prod'],
      namespaces: ['legacy', 'media', 'shop'],
      pvcs: ['old', 'orders', 'postgres-data', 'redis-data', 'uploads'],
    });
    assert.deepEqual(filterChoices(known, { context: 'kind-dev', namespace: 'shop' }), {
      contexts: ['kind-dev', 'prod'],
      namespaces: ['media', 'shop'],
      pvcs: ['postgres-data', 'redis-data'],
    });
  });

  it('keeps a selected value listed even when no volume has it any more', () => {
    assert.ok(filterChoices(known, { namespace: 'gone' }).namespaces.includes('gone'));
  });

  it('drops a namespace or PVC the newly chosen cluster does not have', () => {
    assert.deepEqual(narrowFilter(known, { context: 'prod', namespace: 'media', pvc: 'uploads', status: 'failed' }), { context: 'prod', status: 'failed' });
    assert.deepEqual(narrowFilter(known, { context: 'prod', namespace: 'shop', pvc: 'postgres-data' }), { context: 'prod', namespace: 'shop' });
    assert.deepEqual(narrowFilter(known, { context: 'kind-dev', namespace: 'shop', pvc: 'redis-data' }), { context: 'kind-dev', namespace: 'shop', pvc: 'redis-data' });
  });

  it('charts only volumes whose cluster is known', () => {
    assert.equal(chartChoices(known).length, 4);
  });
});
