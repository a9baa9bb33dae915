import assert from 'node:assert/strict';
import { checkPermissions } from '../../../src/core/access/checkPermissions';
import { DiscoveryError } from '../../../src/core/discovery/discoveryError';
import { discoverVolumes, listNamespaces } from '../../../src/core/discovery/discoverVolumes';
import { KubeRetryNotice } from '../../../src/core/kube/retryTransient';
import { RequestRecord } from '../../sandbox/sandboxCluster';
import { SandboxFixture, startSandbox } from '../sandboxFixture';

describe('discovery and permission checks ride out a throttled or briefly failing API server', function () {
  this.timeout(60_000);
  let sb: SandboxFixture;
  const options = { maxNamespaceScan: 100, timeoutSeconds: 20 };

  before(async () => (sb = await startSandbox()));
  afterEach(() => sb.cluster.faults.clear());
  after(async () => sb?.stop());

  const counting = async <T>(work: () => Promise<T>): Promise<{ result: T; requests: RequestRecord[]; ms: number }> => {
    const before = sb.cluster.requests.length;
    const started = Date.now();
    const result = await work();
    return { result, requests: sb.cluster.requests.slice(before), ms: Date.now() - started };
  };
  const failure = async (work: Promise<unknown>): Promise<Error> => {
    try {
      await work;
    } catch (error) {
      return error as Error;
    }
    assert.fail('the call should have failed');
  };

  it('a 429 burst with Retry-After: waits as told, then finds every volume', async () => {
    sb.cluster.faults.inject({ kind: 'httpError', status: 429, count: 2, retryAfterSeconds: 1, pathPrefix: '/api/v1/pods' });
    const notices: KubeRetryNotice[] = [];
    const { result, requests, ms } = await counting(() => discoverVolumes(sb.kubeConfig, { ...options, onRetry: (n) => notices.push(n) }));
    assert.equal(result.volumes.length, 5);
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(
      requests.filter((r) => r.path === '/api/v1/pods').map((r) => r.status),
      [429, 429, 200],
    );
    assert.deepEqual(notices.map((n) => [n.attempt, n.reason, n.delayMs]), [
      [1, '429', 1000],
      [2, '429', 1000],
    ]);
    assert.ok(ms >= 2000, `waited the 2 x 1 s the server asked for, took ${ms} ms`);
  });

  it('503 and 500 in the middle of paging: the same page is asked for again, nothing is lost or doubled', async () => {
    const big = await startSandbox({ demo: false });
    try {
      const names = Array.from({ length: 1100 }, (_, i) => `team-${String(i).padStart(4, '0')}`);
      big.cluster.seed(...names.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })));
      // Pages of 500: the first passes, the second fails with 503 and then 500, the third passes.
      big.cluster.faults.inject({ kind: 'httpError', status: 503, count: 1, skip: 1, pathPrefix: '/api/v1/namespaces' });
      big.cluster.faults.inject({ kind: 'httpError', status: 500, count: 1, skip: 1, pathPrefix: '/api/v1/namespaces' });
      const result = await listNamespaces(big.kubeConfig, { ...options, maxNamespaceScan: 10_000 });
      assert.deepEqual(result.namespaces, names);
      const requests = big.cluster.requests.filter((r) => r.path === '/api/v1/namespaces');
      assert.deepEqual(requests.map((r) => r.status), [200, 503, 500, 200, 200]);
      const tokens = requests.map((r) => new URLSearchParams(r.query).get('continue'));
      assert.equal(tokens[0], null);
      assert.ok(tokens[1] && tokens[2] === tokens[1] && tokens[3] === tokens[1], 'each retry asks for the same second page');
    } finally {
      await big.stop();
    }
  });

  it('dropped connections (ECONNRESET) are retried', async () => {
    sb.cluster.faults.inject({ kind: 'connectionReset', count: 2, pathPrefix: '/api/v1/persistentvolumeclaims' });
    const notices: KubeRetryNotice[] = [];
    const { result, requests } = await counting(() => discoverVolumes(sb.kubeConfig, { ...options, onRetry: (n) => notices.push(n) }));
    assert.equal(result.volumes.length, 5);
    assert.deepEqual(requests.filter((r) => r.path === '/api/v1/persistentvolumeclaims').map((r) => r.status), [-1, -1, 200]);
    assert.equal(notices.length, 2);
    assert.ok(notices.every((n) => n.reason === 'ECONNRESET' || n.reason === 'socket hang up'), notices.map((n) => n.reason).join());
  });

  it('a server that keeps answering 503: fails, saying so and how many times it was tried', async () => {
    sb.cluster.faults.inject({ kind: 'httpError', status: 503, count: 1000 });
    const { result: error, requests } = await counting(() => failure(discoverVolumes(sb.kubeConfig, options)));
    assert.ok(error instanceof DiscoveryError, String(error));
    assert.equal(error.kind, 'server');
    assert.equal(error.status, 503);
    assert.match(error.message, /^Kubernetes discovery failed while trying to list namespaces: the API server answered 503: .*; try again later \(tried 5 times\)$/);
    assert.equal(requests.length, 5);
  });

  it('a persistent refusal (403) is not retried', async () => {
    sb.cluster.faults.inject({ kind: 'forbid', verb: 'list', resource: 'namespaces' });
    const { result: error, requests } = await counting(() => failure(listNamespaces(sb.kubeConfig, options)));
    assert.ok(error instanceof DiscoveryError && error.kind === 'forbidden', String(error));
    assert.equal(requests.length, 1);
  });

  it('cancelling while waiting out a long Retry-After stops at once with the caller’s reason', async () => {
    sb.cluster.faults.inject({ kind: 'httpError', status: 429, count: 5, retryAfterSeconds: 30 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const started = Date.now();
    const error = await failure(discoverVolumes(sb.kubeConfig, { ...options, signal: controller.signal }));
    assert.equal(error.name, 'AbortError');
    assert.ok(!(error instanceof DiscoveryError));
    assert.ok(Date.now() - started < 2000, `stopped after ${Date.now() - started} ms`);
  });

  it('the discovery deadline also ends a wait between attempts, as a timeout', async () => {
    sb.cluster.faults.inject({ kind: 'httpError', status: 429, count: 5, retryAfterSeconds: 5 });
    const started = Date.now();
    const error = await failure(discoverVolumes(sb.kubeConfig, { ...options, timeoutSeconds: 1 }));
    assert.ok(error instanceof DiscoveryError && error.kind === 'timeout', String(error));
    assert.match(error.message, /list namespaces: timed out after 1 s/);
    assert.ok(Date.now() - started < 2500, `gave up after ${Date.now() - started} ms`);
  });

  describe('permission checks', () => {
    it('survive a burst of 503s on SelfSubjectAccessReview', async () => {
      sb.cluster.faults.inject({ kind: 'httpError', status: 503, count: 3, pathPrefix: '/apis/authorization.k8s.io' });
      const checks = await checkPermissions(sb.kubeConfig, 'shop');
      assert.ok(checks.length > 0 && checks.every((c) => c.allowed));
    });

    it('report a persistent failure with the number of attempts', async () => {
      sb.cluster.faults.inject({ kind: 'httpError', status: 500, count: 1000, pathPrefix: '/apis/authorization.k8s.io' });
      const error = await failure(checkPermissions(sb.kubeConfig, 'shop'));
      assert.match(error.message, /^Could not ask the API server whether ".*" is allowed in "shop": the API server answered 500: .*\(tried 5 times\)$/);
    });
  });
});
