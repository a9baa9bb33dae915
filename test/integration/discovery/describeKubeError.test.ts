import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describeKubeError, KubeErrorDescription } from '../../../src/core/kube/describeKubeError';
import { execCollect } from '../podHelpers';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

/** The classifier on raw client-node errors, as backup and tree code meet them outside discovery. */
describe('describeKubeError on errors thrown by client-node', function () {
  this.timeout(30_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;

  before(async () => {
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
  });
  afterEach(() => sb.cluster.faults.clear());
  after(async () => sb?.stop());

  const described = async (call: () => Promise<unknown>): Promise<KubeErrorDescription> => {
    try {
      await call();
    } catch (error) {
      return describeKubeError(error);
    }
    assert.fail('the call should have failed');
  };

  it('a missing object: notFound, with the server’s words', async () => {
    assert.deepEqual(await described(() => core.readNamespacedPersistentVolumeClaim({ name: 'nope', namespace: 'shop' })), {
      kind: 'notFound',
      status: 404,
      message: 'not found: persistentvolumeclaims "nope" not found',
    });
  });

  it('a refused request: forbidden, keeping who was refused what', async () => {
    sb.cluster.faults.inject({ kind: 'forbid', verb: 'get', resource: 'pods', namespace: 'shop' });
    assert.deepEqual(await described(() => core.readNamespacedPod({ name: 'orders-db-0', namespace: 'shop' })), {
      kind: 'forbidden',
      status: 403,
      message: 'forbidden: User "sandbox-admin" cannot get resource "pods" in API group "" in the namespace "shop"',
    });
  });

  it('a refused exec, whose Status body client-node drops: still forbidden', async () => {
    await eventually('orders-db-0 running', async () => (await core.readNamespacedPod({ name: 'orders-db-0', namespace: 'shop' })).status?.phase === 'Running');
    sb.cluster.faults.inject({ kind: 'forbid', verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'shop' });
    const description = await described(() => execCollect(sb, 'shop', 'orders-db-0', ['true']));
    assert.equal(description.kind, 'forbidden');
    assert.equal(description.status, 403);
  });

  it('a rejected token, whose body client-node also drops: unauthorized', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(sb.cluster.kubeconfig({ token: 'expired' }));
    const description = await described(() => kc.makeApiClient(CoreV1Api).listNamespace());
    assert.equal(description.kind, 'unauthorized');
    assert.match(description.message, /rejected the credentials/);
  });

  it('a request cut by a timeout signal: timeout', async () => {
    sb.cluster.faults.inject({ kind: 'latency', ms: 1000 });
    const signal = AbortSignal.timeout(100);
    const description = await described(async () => {
      await new Promise((resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason));
        core.listNamespace().then(resolve, reject);
      });
    });
    assert.equal(description.kind, 'timeout');
  });
});
