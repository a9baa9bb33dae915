import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { discoverVolumes, listVolumesInNamespace } from '../../../src/core/discovery/discoverVolumes';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

describe('discovery reads little: metadata-only owner lists, and one namespace a page at a time', function () {
  this.timeout(30_000);
  let sb: SandboxFixture;

  before(async () => {
    sb = await startSandbox();
    const core = sb.kubeConfig.makeApiClient(CoreV1Api);
    await eventually('demo pods running', async () => (await core.listPodForAllNamespaces()).items.every((p) => p.status?.phase === 'Running') || undefined);
  });
  after(async () => sb?.stop());

  /** A GET with the admin token and the given Accept header, as any HTTP client would send it. */
  const get = (path: string, accept: string): Promise<{ status: number; body: Record<string, unknown> }> =>
    new Promise((resolve, reject) => {
      const req = request(`${sb.cluster.url}${path}`, { ca: sb.cluster.caPem, headers: { Authorization: `Bearer ${sb.cluster.adminToken}`, Accept: accept } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      });
      req.on('error', reject);
      req.end();
    });

  it('owners are looked up as metadata only, and still lead to the Deployment and the CronJob', async () => {
    const before = sb.cluster.requests.length;
    const inventory = await discoverVolumes(sb.kubeConfig, { maxNamespaceScan: 100, timeoutSeconds: 10 });
    const ownerRequests = sb.cluster.requests.slice(before).filter((r) => r.resource === 'replicasets' || r.resource === 'jobs');
    assert.equal(ownerRequests.length, 2);
    assert.ok(ownerRequests.every((r) => r.accept?.startsWith('application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1')), ownerRequests.map((r) => r.accept).join('\n'));
    const owners = inventory.volumes.flatMap((v) => v.consumers.map((c) => `${c.owner?.kind}/${c.owner?.name} via ${c.owner?.via?.kind ?? '-'}`));
    assert.ok(owners.includes('Deployment/storefront via ReplicaSet'), owners.join(', '));
    assert.ok(owners.includes('CronJob/nightly-report via Job'), owners.join(', '));
  });

  it('the sandbox serves PartialObjectMetadataList as the API server does: metadata kept, spec left out', async () => {
    const { status, body } = await get('/apis/apps/v1/namespaces/shop/replicasets?limit=500', 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1, application/json');
    assert.equal(status, 200);
    assert.equal(body.kind, 'PartialObjectMetadataList');
    assert.equal(body.apiVersion, 'meta.k8s.io/v1');
    const [item] = body.items as { kind: string; metadata: { ownerReferences?: { kind: string }[] }; spec?: unknown }[];
    assert.equal(item.kind, 'PartialObjectMetadata');
    assert.equal(item.spec, undefined);
    assert.equal(item.metadata.ownerReferences?.[0]?.kind, 'Deployment');
  });

  it('a list asked for as a single PartialObjectMetadata is refused with 406 unless a plain fallback is offered', async () => {
    const refused = await get('/apis/apps/v1/namespaces/shop/replicasets', 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1');
    assert.equal(refused.status, 406);
    assert.equal(refused.body.reason, 'NotAcceptable');
    const fallback = await get('/apis/apps/v1/namespaces/shop/replicasets', 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1, application/json');
    assert.equal(fallback.status, 200);
    assert.equal(fallback.body.kind, 'ReplicaSetList');
  });

  it('a namespace is listed one page of claims at a time, each with its consumers, until no token is left', async () => {
    const first = await listVolumesInNamespace(sb.kubeConfig, 'shop', { timeoutSeconds: 10, limit: 1 });
    assert.deepEqual(first.volumes.map((v) => v.name), ['data-orders-db-0']);
    assert.equal(first.volumes[0].consumers[0]?.owner?.name, 'orders-db');
    assert.equal(first.remainingItemCount, 1);
    assert.ok(first.continueToken);
    const second = await listVolumesInNamespace(sb.kubeConfig, 'shop', { timeoutSeconds: 10, limit: 1, continueToken: first.continueToken });
    assert.deepEqual(second.volumes.map((v) => v.name), ['storefront-uploads']);
    assert.equal(second.volumes[0].consumers[0]?.owner?.name, 'storefront');
    assert.equal(second.continueToken, undefined);
    assert.equal(second.remainingItemCount, undefined);
  });

  it('without a limit, the whole namespace comes in one call, as before', async () => {
    const all = await listVolumesInNamespace(sb.kubeConfig, 'shop', { timeoutSeconds: 10 });
    assert.deepEqual(all.volumes.map((v) => v.name), ['data-orders-db-0', 'storefront-uploads']);
    assert.equal(all.continueToken, undefined);
  });
});
