import { KubeConfig } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { DiscoveryError } from '../../../src/core/discovery/discoveryError';
import { discoverVolumes, listNamespaces, listVolumesInNamespace } from '../../../src/core/discovery/discoverVolumes';
import { KubeErrorKind } from '../../../src/core/kube/describeKubeError';
import { AccessAttributes } from '../../sandbox/api/access';
import { createCertificates } from '../../sandbox/tls';
import { SandboxFixture, startSandbox } from '../sandboxFixture';

describe('volume discovery when the cluster says no, is slow or cannot be reached', function () {
  this.timeout(30_000);
  let sb: SandboxFixture;
  const options = { maxNamespaceScan: 100, timeoutSeconds: 10 };

  before(async () => (sb = await startSandbox()));
  afterEach(() => sb.cluster.faults.clear());
  after(async () => sb?.stop());

  const kubeConfigFrom = (yaml: string): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromString(yaml);
    return kc;
  };
  /** Awaits a DiscoveryError of the given kind and returns it. */
  const discoveryFailure = async (work: Promise<unknown>, kind: KubeErrorKind): Promise<DiscoveryError> => {
    try {
      await work;
    } catch (error) {
      assert.ok(error instanceof DiscoveryError, `expected a DiscoveryError, got ${String(error)}`);
      assert.equal(error.kind, kind, error.message);
      return error;
    }
    assert.fail('discovery should have failed');
  };
  /**
   * A user whose rights are granted per namespace, as RoleBindings do: list anything inside a
   * namespace, and namespaces themselves, but nothing cluster-wide.
   */
  const namespaceScopedUser = (options: { listNamespaces: boolean; contextNamespace?: string }): KubeConfig => {
    const token = `scoped-${Math.random().toString(36).slice(2)}`;
    const username = `scoped-${token.slice(-6)}`;
    sb.cluster.access.addToken(token, { username, groups: ['system:authenticated'] });
    removePolicies.push(
      sb.cluster.access.addPolicy((a: AccessAttributes) => {
        if (a.user.username !== username) return undefined;
        const allowed = a.verb === 'list' && (a.namespace !== undefined || (a.resource === 'namespaces' && options.listNamespaces));
        return { allowed, reason: allowed ? 'namespace-scoped role' : '' };
      }),
    );
    return kubeConfigFrom(sb.cluster.kubeconfig({ token, user: username, namespace: options.contextNamespace }));
  };
  const removePolicies: (() => void)[] = [];
  afterEach(() => removePolicies.splice(0).forEach((remove) => remove()));

  describe('the deadline', () => {
    it('a slow API server fails with a timeout naming the step and the setting to raise', async () => {
      sb.cluster.faults.inject({ kind: 'latency', ms: 3000 });
      const started = Date.now();
      const error = await discoveryFailure(discoverVolumes(sb.kubeConfig, { ...options, timeoutSeconds: 1 }), 'timeout');
      assert.ok(Date.now() - started < 2000, `gave up after ${Date.now() - started} ms`);
      assert.match(error.message, /^Kubernetes discovery failed while trying to list namespaces: timed out after 1 s/);
      assert.match(error.message, /nkvm\.discoveryTimeoutSeconds/);
      assert.match(error.message, /NKVM_DISCOVERY_TIMEOUT_SECONDS/);
    });

    it('covers the whole discovery, not each request, and names the step it interrupted', async () => {
      sb.cluster.faults.inject({ kind: 'latency', ms: 600, pathPrefix: '/api/v1/p' });
      const error = await discoveryFailure(discoverVolumes(sb.kubeConfig, { ...options, timeoutSeconds: 1 }), 'timeout');
      // Claims (600 ms) fit in the second, pods (another 600 ms) do not.
      assert.match(error.message, /while trying to list pods in all namespaces: timed out after 1 s/);
    });

    it('a cancelled discovery rejects with the caller’s reason, not a failure', async () => {
      sb.cluster.faults.inject({ kind: 'latency', ms: 3000 });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      await assert.rejects(discoverVolumes(sb.kubeConfig, { ...options, signal: controller.signal }), (e: Error) => e.name === 'AbortError' && !(e instanceof DiscoveryError));
    });
  });

  describe('permissions', () => {
    it('claims forbidden everywhere: fails, quoting the server', async () => {
      sb.cluster.faults.inject({ kind: 'forbid', verb: 'list', resource: 'persistentvolumeclaims' });
      const error = await discoveryFailure(discoverVolumes(sb.kubeConfig, options), 'forbidden');
      assert.equal(
        error.message,
        'Kubernetes discovery failed while trying to list persistent volume claims in namespaces "analytics", "default", "kube-system" and 2 more: ' +
          'forbidden: User "sandbox-admin" cannot list resource "persistentvolumeclaims" in API group "" in the namespace "analytics"',
      );
      assert.equal(error.status, 403);
    });

    it('one namespace’s claims forbidden: the message names that namespace', async () => {
      sb.cluster.faults.inject({ kind: 'forbid', verb: 'list', resource: 'persistentvolumeclaims', namespace: 'shop' });
      const error = await discoveryFailure(listVolumesInNamespace(sb.kubeConfig, 'shop', options), 'forbidden');
      assert.equal(
        error.message,
        'Kubernetes discovery failed while trying to list persistent volume claims in namespace "shop": ' +
          'forbidden: User "sandbox-admin" cannot list resource "persistentvolumeclaims" in API group "" in the namespace "shop"',
      );
    });

    it('cluster-wide lists forbidden: falls back to one list per namespace and finds everything', async () => {
      const before = sb.cluster.requests.length;
      const inventory = await discoverVolumes(namespaceScopedUser({ listNamespaces: true }), options);
      const requests = sb.cluster.requests.slice(before);
      assert.deepEqual(inventory.warnings, []);
      assert.equal(inventory.volumes.length, 5);
      assert.equal(inventory.volumes.find((v) => v.name === 'storefront-uploads')?.consumers[0]?.owner?.name, 'storefront');
      assert.equal(requests.filter((r) => r.status === 403).length, 2, 'one refused cluster-wide list each for claims and pods');
      // 1 namespaces + 1 refused + 5 claims lists + 1 refused + 3 pod lists (namespaces with claims) + 1 ReplicaSets + 1 Jobs.
      assert.equal(requests.length, 13, requests.map((r) => `${r.status} ${r.path}`).join('\n'));
    });

    it('pods forbidden in shop only: a warning, and every other namespace’s data', async () => {
      sb.cluster.faults.inject({ kind: 'forbid', verb: 'list', resource: 'pods', namespace: 'shop' });
      const inventory = await discoverVolumes(namespaceScopedUser({ listNamespaces: true }), options);
      assert.equal(inventory.warnings.length, 1);
      assert.match(inventory.warnings[0], /namespace "shop" is unknown: cannot list pods there \(forbidden: User "scoped-\w+" cannot list resource "pods" in API group "" in the namespace "shop"\)/);
      const uploads = inventory.volumes.find((v) => v.name === 'storefront-uploads');
      assert.equal(uploads?.consumersUnknown, true, 'shop claims are listed, their consumers unknown');
      assert.equal(uploads?.capacity, '5Gi');
      const reports = inventory.volumes.find((v) => v.name === 'reports');
      assert.deepEqual(reports?.consumers.map((c) => c.owner?.name), ['nightly-report']);
      assert.equal(reports?.consumersUnknown, undefined);
    });

    it('namespaces forbidden: scans the kubeconfig context’s namespace and says so', async () => {
      const inventory = await discoverVolumes(namespaceScopedUser({ listNamespaces: false, contextNamespace: 'media' }), options);
      assert.deepEqual(inventory.namespaces, ['media']);
      assert.deepEqual(inventory.volumes.map((v) => v.name), ['archive-2019', 'scratch']);
      assert.match(inventory.warnings[0], /^Cannot list namespaces \(forbidden: .*\); scanning only the context's namespace "media"\.$/);
    });

    it('namespaces forbidden and no context namespace: fails with what to do', async () => {
      const error = await discoveryFailure(listNamespaces(namespaceScopedUser({ listNamespaces: false }), options), 'forbidden');
      assert.match(error.message, /^Kubernetes discovery failed while trying to list namespaces: forbidden: User "scoped-\w+" cannot list resource "namespaces" in API group "" at the cluster scope\. Set a namespace on the kubeconfig context/);
    });
  });

  describe('connection failures, told apart', () => {
    it('nothing listening: unreachable, naming the server', async () => {
      const port = await closedPort();
      const kc = kubeConfigFrom(sb.cluster.kubeconfig().replace(sb.cluster.url, `https://127.0.0.1:${port}`));
      const error = await discoveryFailure(discoverVolumes(kc, options), 'unreachable');
      assert.match(error.message, new RegExp(`^Kubernetes discovery failed while trying to list namespaces: cannot reach the API server at https://127\\.0\\.0\\.1:${port}: the connection was refused`));
    });

    it('a host name that does not resolve: unreachable', async () => {
      const kc = kubeConfigFrom(sb.cluster.kubeconfig().replace(sb.cluster.url, 'https://nkvm-no-such-cluster.invalid:6443'));
      const error = await discoveryFailure(listNamespaces(kc, options), 'unreachable');
      assert.match(error.message, /cannot reach the API server at https:\/\/nkvm-no-such-cluster\.invalid:6443: the host name/);
    });

    it('a wrong token: unauthorized, saying the credentials were rejected', async () => {
      const error = await discoveryFailure(discoverVolumes(kubeConfigFrom(sb.cluster.kubeconfig({ token: 'not-the-token' })), options), 'unauthorized');
      assert.match(error.message, /list namespaces: the API server rejected the credentials \(401 Unauthorized\)/);
      assert.equal(error.status, 401);
    });

    it('a server that stays overloaded: a server error with its status, to be tried again', async () => {
      sb.cluster.faults.inject({ kind: 'httpError', status: 503, count: 1000 });
      const error = await discoveryFailure(discoverVolumes(sb.kubeConfig, options), 'server');
      assert.equal(error.status, 503);
      assert.match(error.message, /list namespaces: the API server answered 503: .*; try again later \(tried \d+ times\)$/);
    });

    it('an empty kubeconfig: no request, and what to pick', async () => {
      const error = await discoveryFailure(discoverVolumes(new KubeConfig(), options), 'other');
      assert.equal(error.message, 'Kubernetes discovery failed while trying to find the cluster to ask: the kubeconfig has no current context; pick one');
    });

    it('a CA that did not sign the server certificate: tls', async () => {
      const otherCa = Buffer.from(createCertificates().caPem).toString('base64');
      const kc = kubeConfigFrom(sb.cluster.kubeconfig().replace(/certificate-authority-data: \S+/, `certificate-authority-data: ${otherCa}`));
      const error = await discoveryFailure(discoverVolumes(kc, options), 'tls');
      assert.match(error.message, new RegExp(`the TLS connection to the API server at ${sb.cluster.url.replace(/\./g, '\\.')} failed: unable to verify the first certificate`));
      assert.match(error.message, /certificate-authority/);
    });
  });
});

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
