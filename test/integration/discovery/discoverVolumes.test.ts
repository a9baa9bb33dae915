import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { discoverVolumes, listNamespaces, listVolumesInNamespace } from '../../../src/core/discovery/discoverVolumes';
import type { Inventory, VolumeInfo } from '../../../src/core/discovery/volumeInventory';
import { RequestRecord } from '../../sandbox/sandboxCluster';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

describe('volume discovery against the sandbox demo', function () {
  this.timeout(30_000);
  let sb: SandboxFixture;
  const options = { maxNamespaceScan: 100, timeoutSeconds: 10 };

  before(async () => {
    sb = await startSandbox();
    // Nodes and phases come from the sandbox's scheduler and kubelet, which run after seeding.
    const core = sb.kubeConfig.makeApiClient(CoreV1Api);
    await eventually('demo pods running', async () => (await core.listPodForAllNamespaces()).items.every((p) => p.status?.phase === 'Running') || undefined);
  });
  after(async () => sb?.stop());

  /** Runs `work` and returns what it produced with the requests the sandbox received meanwhile. */
  const counting = async <T>(work: () => Promise<T>): Promise<{ result: T; requests: RequestRecord[] }> => {
    const before = sb.cluster.requests.length;
    const result = await work();
    return { result, requests: sb.cluster.requests.slice(before) };
  };
  const volume = (inventory: { volumes: VolumeInfo[] }, name: string): VolumeInfo => {
    const found = inventory.volumes.find((v) => v.name === name);
    assert.ok(found, `volume ${name} in ${inventory.volumes.map((v) => v.name).join(', ')}`);
    return found;
  };

  describe('a full inventory', () => {
    let inventory: Inventory;
    let requests: RequestRecord[];
    before(async () => ({ result: inventory, requests } = await counting(() => discoverVolumes(sb.kubeConfig, options))));

    it('lists every namespace and every claim, with no warnings', () => {
      assert.deepEqual(inventory.namespaces, ['analytics', 'default', 'kube-system', 'media', 'shop']);
      assert.equal(inventory.namespacesTruncated, false);
      assert.deepEqual(inventory.warnings, []);
      assert.deepEqual(inventory.volumes.map((v) => `${v.namespace}/${v.name}`), [
        'analytics/reports',
        'media/archive-2019',
        'media/scratch',
        'shop/data-orders-db-0',
        'shop/storefront-uploads',
      ]);
      assert.ok(inventory.volumes.every((v) => v.context === 'sandbox'));
    });

    it('storefront-uploads is used by the storefront Deployment pod', () => {
      const uploads = volume(inventory, 'storefront-uploads');
      assert.deepEqual({ capacity: uploads.capacity, storageClass: uploads.storageClass, accessModes: uploads.accessModes, phase: uploads.phase }, { capacity: '5Gi', storageClass: 'standard', accessModes: ['ReadWriteOnce'], phase: 'Bound' });
      assert.deepEqual(uploads.consumers.map((c) => [c.pod, c.owner?.kind, c.owner?.name]), [['storefront-7d9c8b6f5-x2kqp', 'Deployment', 'storefront']]);
      assert.equal(uploads.consumers[0].owner?.via?.name, 'storefront-7d9c8b6f5');
    });

    it('data-orders-db-0 is used by the orders-db StatefulSet pod, with its node, tolerations and user', () => {
      const [consumer] = volume(inventory, 'data-orders-db-0').consumers;
      assert.equal(consumer.pod, 'orders-db-0');
      assert.deepEqual(consumer.owner, { kind: 'StatefulSet', name: 'orders-db' });
      assert.equal(consumer.node, 'node-c', 'the tainted node the pod tolerates');
      assert.deepEqual(consumer.tolerations.map((t) => ({ ...t })), [{ key: 'dedicated', operator: 'Equal', value: 'storage', effect: 'NoSchedule' }]);
      assert.equal(consumer.runAsUser, 999);
      assert.equal(volume(inventory, 'data-orders-db-0').capacity, '10Gi');
    });

    it('reports is used by the nightly-report CronJob, through its Job', () => {
      const reports = volume(inventory, 'reports');
      assert.deepEqual(reports.accessModes, ['ReadWriteMany']);
      assert.deepEqual(reports.consumers[0].owner, { kind: 'CronJob', name: 'nightly-report', via: { kind: 'Job', name: 'nightly-report-29391840' } });
    });

    it('archive-2019 has no consumers and scratch is Pending without capacity', () => {
      assert.deepEqual(volume(inventory, 'archive-2019').consumers, []);
      assert.equal(volume(inventory, 'archive-2019').capacity, '20Gi');
      const scratch = volume(inventory, 'scratch');
      assert.equal(scratch.phase, 'Pending');
      assert.equal(scratch.capacity, undefined);
      assert.equal(scratch.storageClass, 'fast-nvme');
    });

    it('takes a handful of list requests, one per resource type, paged', () => {
      assert.ok(requests.length <= 6, requests.map((r) => r.path).join('\n'));
      assert.ok(requests.every((r) => r.method === 'GET' && r.verb === 'list' && r.status === 200 && r.query.includes('limit=500')));
      assert.deepEqual(requests.map((r) => r.path), [
        '/api/v1/namespaces',
        '/api/v1/persistentvolumeclaims',
        '/api/v1/pods',
        // Owners are looked up only where a mounting pod has a ReplicaSet or a Job.
        '/apis/apps/v1/namespaces/shop/replicasets',
        '/apis/batch/v1/namespaces/analytics/jobs',
      ]);
    });
  });

  it('the namespace filter narrows the scan, and a single namespace is asked for directly', async () => {
    const { result, requests } = await counting(() => discoverVolumes(sb.kubeConfig, { ...options, namespaceFilter: 'sh*' }));
    assert.deepEqual(result.namespaces, ['shop']);
    assert.deepEqual(result.volumes.map((v) => v.name), ['data-orders-db-0', 'storefront-uploads']);
    assert.deepEqual(requests.map((r) => r.path), [
      '/api/v1/namespaces',
      '/api/v1/namespaces/shop/persistentvolumeclaims',
      '/api/v1/namespaces/shop/pods',
      '/apis/apps/v1/namespaces/shop/replicasets',
    ]);
  });

  it('the cap scans the first namespaces by name and says the list was cut', async () => {
    const inventory = await discoverVolumes(sb.kubeConfig, { ...options, maxNamespaceScan: 2 });
    assert.deepEqual(inventory.namespaces, ['analytics', 'default']);
    assert.equal(inventory.namespacesTruncated, true);
    assert.deepEqual(inventory.volumes.map((v) => v.name), ['reports']);
  });

  it('namespaces without claims cost no pod or owner lookups', async () => {
    const { result, requests } = await counting(() => discoverVolumes(sb.kubeConfig, { ...options, namespaceFilter: 'default,kube-system' }));
    assert.deepEqual(result.volumes, []);
    assert.deepEqual(requests.map((r) => r.path), ['/api/v1/namespaces', '/api/v1/persistentvolumeclaims']);
  });

  it('given namespaces are scanned without listing the cluster’s', async () => {
    const { result, requests } = await counting(() => discoverVolumes(sb.kubeConfig, { ...options, namespaces: ['media', 'ghost'] }));
    assert.deepEqual(result.namespaces, ['ghost', 'media']);
    assert.deepEqual(result.volumes.map((v) => v.name), ['archive-2019', 'scratch']);
    assert.ok(!requests.some((r) => r.path === '/api/v1/namespaces'));
  });

  describe('a tree that expands lazily', () => {
    it('lists namespaces (filtered and capped) with one request', async () => {
      const { result, requests } = await counting(() => listNamespaces(sb.kubeConfig, { ...options, namespaceFilter: 'shop,media,analytics', maxNamespaceScan: 2 }));
      assert.deepEqual(result, { namespaces: ['analytics', 'media'], namespacesTruncated: true, warnings: [] });
      assert.equal(requests.length, 1);
    });

    it('lists one namespace’s claims with their consumers and owners', async () => {
      const { result, requests } = await counting(() => listVolumesInNamespace(sb.kubeConfig, 'shop', { timeoutSeconds: 10 }));
      assert.equal(result.namespace, 'shop');
      assert.deepEqual(result.warnings, []);
      assert.deepEqual(result.volumes.map((v) => [v.name, v.consumers[0]?.owner?.kind, v.consumers[0]?.owner?.name]), [
        ['data-orders-db-0', 'StatefulSet', 'orders-db'],
        ['storefront-uploads', 'Deployment', 'storefront'],
      ]);
      assert.ok(requests.every((r) => r.namespace === 'shop'), requests.map((r) => r.path).join('\n'));
      assert.equal(requests.length, 3);
    });

    it('an empty namespace costs one request', async () => {
      const { result, requests } = await counting(() => listVolumesInNamespace(sb.kubeConfig, 'default', { timeoutSeconds: 10 }));
      assert.deepEqual(result.volumes, []);
      assert.equal(requests.length, 1);
    });
  });

  describe('a cluster with more namespaces than fit in one page', () => {
    let big: SandboxFixture;
    before(async () => {
      big = await startSandbox();
      big.cluster.seed(...Array.from({ length: 520 }, (_, i) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `team-${String(i).padStart(3, '0')}` } })));
    });
    after(async () => big?.stop());

    it('pages through all namespaces, then scans only the capped selection', async () => {
      const before = big.cluster.requests.length;
      const inventory = await discoverVolumes(big.kubeConfig, { ...options, maxNamespaceScan: 100 });
      const requests = big.cluster.requests.slice(before);
      assert.equal(inventory.namespaces.length, 100);
      assert.equal(inventory.namespaces[99], 'team-094');
      assert.equal(inventory.namespacesTruncated, true);
      assert.equal(inventory.volumes.length, 5);
      const namespacePages = requests.filter((r) => r.path === '/api/v1/namespaces');
      assert.equal(namespacePages.length, 2);
      assert.match(namespacePages[1].query, /continue=/);
      assert.equal(requests.length, 6, requests.map((r) => r.path).join('\n'));
    });
  });
});
