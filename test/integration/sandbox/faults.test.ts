import { CoreV1Api, Exec, V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { deletePodsNow, execCollect, readerPod } from '../podHelpers';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

describe('faults injected into the sandbox, as a client sees them', function () {
  this.timeout(30_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;
  let n = 0;

  before(async () => {
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
  });
  // A ReadWriteOnce claim left attached by one test's pod would hold the next test's pod in ContainerCreating.
  afterEach(async () => {
    sb.cluster.faults.clear();
    await deletePodsNow(core, 'media');
  });
  after(async () => sb?.stop());

  const newPod = async (claim = 'archive-2019', extra: Partial<V1Pod['spec']> = {}): Promise<string> => {
    const name = `fault-${++n}`;
    await core.createNamespacedPod({ namespace: 'media', body: readerPod(name, 'media', claim, extra) });
    return name;
  };
  const pod = (name: string) => core.readNamespacedPod({ name, namespace: 'media' });
  const eventsOf = async (name: string) => (await core.listNamespacedEvent({ namespace: 'media', fieldSelector: `involvedObject.name=${name}` })).items;
  const running = (name: string) => eventually(`${name} Running`, async () => (await pod(name)).status?.phase === 'Running');

  it('image pull failure: ErrImagePull, then ImagePullBackOff, with Failed events', async () => {
    sb.cluster.faults.inject({ kind: 'imagePull', target: { namespace: 'media', pod: 'fault-*' } });
    const name = await newPod();
    const waiting = await eventually('ImagePullBackOff', async () => {
      const reason = (await pod(name)).status?.containerStatuses?.[0]?.state?.waiting?.reason;
      return reason === 'ImagePullBackOff' ? reason : undefined;
    });
    assert.equal(waiting, 'ImagePullBackOff');
    const reasons = (await eventsOf(name)).map((e) => `${e.reason}:${e.message}`);
    assert.ok(reasons.some((r) => r.startsWith('Failed:Failed to pull image "alpine:3.20"')), reasons.join('\n'));
    assert.ok(reasons.includes('Failed:Error: ErrImagePull'));
    assert.equal((await pod(name)).status?.phase, 'Pending');
  });

  it('unschedulable: Pending with an Unschedulable condition and a FailedScheduling event', async () => {
    sb.cluster.faults.inject({ kind: 'unschedulable', target: { pvc: 'archive-2019' } });
    const name = await newPod();
    const condition = await eventually('Unschedulable', async () => (await pod(name)).status?.conditions?.find((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable'));
    assert.match(condition.message ?? '', /0\/3 nodes are available/);
    assert.ok((await eventsOf(name)).some((e) => e.reason === 'FailedScheduling' && e.type === 'Warning'));
  });

  it('create forbidden: 403 naming the verb, resource and namespace', async () => {
    sb.cluster.faults.inject({ kind: 'forbid', verb: 'create', resource: 'pods', namespace: 'media' });
    await assert.rejects(newPod(), (e: { code: number; body: string }) => {
      assert.equal(e.code, 403);
      assert.match(JSON.parse(e.body).message, /cannot create resource "pods" in API group "" in the namespace "media"/);
      return true;
    });
  });

  it('delete forbidden: 403 and the pod stays', async () => {
    const name = await newPod();
    sb.cluster.faults.inject({ kind: 'forbid', verb: 'delete', resource: 'pods', namespace: 'media' });
    await assert.rejects(core.deleteNamespacedPod({ name, namespace: 'media' }), (e: { code: number }) => e.code === 403);
    assert.equal((await pod(name)).metadata?.name, name);
  });

  it('exec forbidden: the WebSocket upgrade is refused with 403', async () => {
    const name = await newPod();
    await running(name);
    sb.cluster.faults.inject({ kind: 'forbid', verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'media' });
    await assert.rejects(execCollect(sb, 'media', name, ['true']), (e: { message?: string }) => /403/.test(e.message ?? ''));
  });

  it('exec stream cut after N bytes: the client sees an abnormal close and a short stream', async () => {
    const name = await newPod();
    await running(name);
    sb.cluster.faults.inject({ kind: 'execCut', target: { pod: name }, afterBytes: 100_000 });
    let received = 0;
    const sink = new Writable({ write: (c, _e, cb) => ((received += c.length), cb()) });
    const ws = (await new Exec(sb.kubeConfig).exec('media', name, 'main', ['sh', '-c', 'head -c 5000000 /dev/zero'], sink, null, null, false)) as unknown as WebSocket;
    const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
    assert.equal(code, 1006);
    assert.ok(received >= 100_000 && received < 5_000_000, `received ${received}`);
  });

  it('command exit code: the status reports the injected code', async () => {
    const name = await newPod();
    await running(name);
    sb.cluster.faults.inject({ kind: 'execExitCode', target: { pod: name }, code: 2 });
    const { status } = await execCollect(sb, 'media', name, ['true']);
    assert.equal(status.details?.causes?.[0]?.message, '2');
  });

  it('exec corruption: one byte of stdout arrives flipped', async () => {
    const name = await newPod();
    await running(name);
    sb.cluster.faults.inject({ kind: 'execCorrupt', target: { pod: name }, byteOffset: 3 });
    const { stdout, status } = await execCollect(sb, 'media', name, ['printf', 'abcdef']);
    assert.equal(status.status, 'Success');
    assert.equal(stdout.length, 6);
    assert.equal(stdout[3], 'd'.charCodeAt(0) ^ 0xff);
    assert.equal(stdout.subarray(0, 3).toString(), 'abc');
  });

  it('API latency: requests take at least the injected delay', async () => {
    sb.cluster.faults.inject({ kind: 'latency', ms: 300, pathPrefix: '/api/v1/namespaces/media' });
    const started = Date.now();
    await core.listNamespacedPersistentVolumeClaim({ namespace: 'media' });
    assert.ok(Date.now() - started >= 300);
    const fast = Date.now();
    await core.listNamespacedPersistentVolumeClaim({ namespace: 'shop' });
    assert.ok(Date.now() - fast < 300);
  });

  it('429 and 500 bursts: exactly N failures with Status bodies (and Retry-After), then success', async () => {
    sb.cluster.faults.inject({ kind: 'httpError', status: 429, count: 2, retryAfterSeconds: 3, pathPrefix: '/api/v1/namespaces' });
    for (let i = 0; i < 2; i++) {
      await assert.rejects(core.listNamespace(), (e: { code: number; body: string; headers: Record<string, string> }) => {
        assert.equal(e.code, 429);
        assert.equal(JSON.parse(e.body).reason, 'TooManyRequests');
        assert.equal(e.headers['retry-after'], '3');
        return true;
      });
    }
    assert.ok((await core.listNamespace()).items.length > 0);
    sb.cluster.faults.inject({ kind: 'httpError', status: 500, count: 1 });
    await assert.rejects(core.listNamespace(), (e: { code: number; body: string }) => e.code === 500 && JSON.parse(e.body).reason === 'InternalError');
    assert.ok((await core.listNamespace()).items.length > 0);
  });
});
