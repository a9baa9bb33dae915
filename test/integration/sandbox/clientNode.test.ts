import { AuthorizationV1Api, CoreV1Api, KubeConfig, V1Pod, Watch } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execCollect, readerPod } from '../podHelpers';
import { archiveEntries, folderEntries } from '../treeListing';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

describe('@kubernetes/client-node against the sandbox cluster', function () {
  this.timeout(30_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;

  before(async () => {
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
  });
  after(async () => sb?.stop());

  it('lists namespaces and claims across namespaces with their phases', async () => {
    const namespaces = (await core.listNamespace()).items.map((n) => n.metadata?.name);
    assert.ok(namespaces.includes('shop') && namespaces.includes('analytics') && namespaces.includes('media'));
    const claims = (await core.listPersistentVolumeClaimForAllNamespaces()).items;
    const phase = (name: string) => claims.find((c) => c.metadata?.name === name)?.status?.phase;
    assert.equal(phase('storefront-uploads'), 'Bound');
    assert.equal(phase('archive-2019'), 'Bound');
    assert.equal(phase('scratch'), 'Pending');
  });

  it('pages a list with limit and continue', async () => {
    const first = await core.listPersistentVolumeClaimForAllNamespaces({ limit: 2 });
    assert.equal(first.items.length, 2);
    assert.ok(first.metadata?._continue, 'a continue token');
    const seen = first.items.map((c) => c.metadata?.name);
    let token: string | undefined = first.metadata?._continue;
    while (token) {
      const page = await core.listPersistentVolumeClaimForAllNamespaces({ limit: 2, _continue: token });
      seen.push(...page.items.map((c) => c.metadata?.name));
      token = page.metadata?._continue;
    }
    assert.deepEqual(seen.sort(), ['archive-2019', 'data-orders-db-0', 'reports', 'scratch', 'storefront-uploads']);
  });

  it('filters by label and field selectors', async () => {
    const pods = await core.listPodForAllNamespaces({ labelSelector: 'app=orders-db' });
    assert.deepEqual(pods.items.map((p) => p.metadata?.name), ['orders-db-0']);
    const inShop = await core.listPodForAllNamespaces({ fieldSelector: 'metadata.namespace=shop' });
    assert.ok(inShop.items.every((p) => p.metadata?.namespace === 'shop') && inShop.items.length === 2);
  });

  it('creates a pod, watches it become Running, reads a tar of the volume over exec, and deletes it', async () => {
    const watch = new Watch(sb.kubeConfig);
    const phases: string[] = [];
    let running!: () => void;
    const isRunning = new Promise<void>((r) => (running = r));
    const req = await watch.watch('/api/v1/namespaces/media/pods', { fieldSelector: 'metadata.name=cn-reader' }, (type, obj: V1Pod) => {
      phases.push(`${type}:${obj.status?.phase}`);
      if (obj.status?.phase === 'Running') running();
    }, () => undefined);
    const body = readerPod('cn-reader', 'media', 'archive-2019');
    // Stops on SIGTERM, as a server does, so the graceful delete below ends as soon as the container does.
    body.spec!.containers[0]!.command = ['sh', '-c', "trap 'exit 0' TERM; sleep infinity & wait"];
    await core.createNamespacedPod({ namespace: 'media', body });
    await isRunning;
    req.abort();
    assert.equal(phases[0], 'ADDED:Pending');
    assert.ok(phases.includes('MODIFIED:Running'));

    const { stdout, status } = await execCollect(sb, 'media', 'cn-reader', ['sh', '-c', 'cd /data && tar czf - .']);
    assert.equal(status.status, 'Success');
    assert.deepEqual(archiveEntries(stdout), folderEntries(sb.cluster.volumePath('media', 'archive-2019')).map((e) => `./${e.slice(2)}`));

    await core.deleteNamespacedPod({ name: 'cn-reader', namespace: 'media' });
    await eventually('the pod to be gone', async () => (await core.listNamespacedPod({ namespace: 'media' })).items.length === 0);
  });

  it('delivers a non-zero exit code as a Failure status with the ExitCode cause', async () => {
    const { status, stderr } = await execCollect(sb, 'shop', 'orders-db-0', ['sh', '-c', 'echo broken >&2; exit 3']);
    assert.equal(status.status, 'Failure');
    assert.equal(status.reason, 'NonZeroExitCode');
    assert.equal(status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message, '3');
    assert.match(stderr, /broken/);
  });

  it('pipes stdin to the command and ends it when the client closes stdin (v5)', async () => {
    const { stdout, status } = await execCollect(sb, 'shop', 'orders-db-0', ['sh', '-c', 'wc -c'], Buffer.alloc(100_000, 7));
    assert.equal(status.status, 'Success');
    assert.equal(stdout.toString().trim(), '100000');
  });

  it('answers SelfSubjectAccessReview in JSON', async () => {
    const authz = sb.kubeConfig.makeApiClient(AuthorizationV1Api);
    const review = await authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace: 'shop', verb: 'create', resource: 'pods', subresource: 'exec' } } } });
    assert.equal(review.status?.allowed, true);
  });

  it('returns Status bodies shaped like the real server for 404, 409 and 422', async () => {
    const failure = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return { code: (e as { code: number }).code, body: JSON.parse((e as { body: string }).body) };
      }
      throw new Error('expected a failure');
    };
    const notFound = await failure(core.readNamespacedPod({ name: 'nope', namespace: 'shop' }));
    assert.equal(notFound.code, 404);
    assert.deepEqual({ kind: notFound.body.kind, status: notFound.body.status, reason: notFound.body.reason, message: notFound.body.message }, { kind: 'Status', status: 'Failure', reason: 'NotFound', message: 'pods "nope" not found' });
    const exists = await failure(core.createNamespace({ body: { metadata: { name: 'shop' } } }));
    assert.equal(exists.code, 409);
    assert.equal(exists.body.reason, 'AlreadyExists');
    const invalid = await failure(core.createNamespace({ body: { metadata: { name: 'Not_Valid' } } }));
    assert.equal(invalid.code, 422);
    assert.equal(invalid.body.reason, 'Invalid');
    assert.equal(invalid.body.details.causes[0].field, 'metadata.name');
    const noNamespace = await failure(core.createNamespacedPod({ namespace: 'ghost', body: readerPod('x', 'ghost', 'y') }));
    assert.equal(noNamespace.code, 404);
    assert.equal(noNamespace.body.message, 'namespaces "ghost" not found');
  });

  it('rejects requests without a valid bearer token with 401', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(sb.cluster.kubeconfig({ token: 'wrong' }));
    await assert.rejects(kc.makeApiClient(CoreV1Api).listNamespace(), (e: { code: number }) => e.code === 401);
  });
});
