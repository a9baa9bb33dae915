import assert from 'node:assert/strict';
import { namespacePhrase } from '../../../src/core/discovery/collectVolumes';
import { namespaceMatcher, selectNamespaces } from '../../../src/core/discovery/namespaceSelection';
import { loadSnapshot } from './clusterSnapshot';

describe('namespace filter and cap', () => {
  const names = loadSnapshot('demoCluster').namespaces.map((n) => n.metadata!.name!);

  it('with no filter, every namespace in name order', () => {
    assert.deepEqual(selectNamespaces(names, undefined, 100), { namespaces: ['analytics', 'default', 'kube-system', 'media', 'shop'], truncated: false });
    assert.deepEqual(selectNamespaces(names, ' , ', 100).namespaces.length, 5);
  });

  it('comma-separated names, with spaces and any case', () => {
    assert.deepEqual(selectNamespaces(names, 'shop, Media ,nope', 100).namespaces, ['media', 'shop']);
  });

  it('globs with *', () => {
    assert.deepEqual(selectNamespaces(names, 'kube-*', 100).namespaces, ['kube-system']);
    assert.deepEqual(selectNamespaces(names, '*a*', 100).namespaces, ['analytics', 'default', 'media']);
    assert.deepEqual(selectNamespaces(names, 'sh*,*tics', 100).namespaces, ['analytics', 'shop']);
  });

  it('a glob is anchored and its other characters are literal', () => {
    const matches = namespaceMatcher('team.a-*');
    assert.equal(matches('team.a-web'), true);
    assert.equal(matches('teamxa-web'), false);
    assert.equal(matches('x-team.a-web'), false);
  });

  it('the cap keeps the first names in order and says it cut the list', () => {
    assert.deepEqual(selectNamespaces(names, undefined, 2), { namespaces: ['analytics', 'default'], truncated: true });
    assert.deepEqual(selectNamespaces(names, 'shop,media', 2), { namespaces: ['media', 'shop'], truncated: false });
  });

  it('names a few namespaces in full and counts the rest', () => {
    assert.equal(namespacePhrase(['shop']), 'namespace "shop"');
    assert.equal(namespacePhrase(['a', 'b']), 'namespaces "a" and "b"');
    assert.equal(namespacePhrase(['a', 'b', 'c', 'd', 'e']), 'namespaces "a", "b", "c" and 2 more');
  });
});
