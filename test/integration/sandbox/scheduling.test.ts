import { CoreV1Api, V1Pod, Watch } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { deletePodsNow, readerPod } from '../podHelpers';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

describe('sandbox scheduling and pod lifecycle', function () {
  this.timeout(30_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;
  let n = 0;

  before(async () => {
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
  });
  afterEach(async () => {
    await deletePodsNow(core, 'media');
  });
  after(async () => sb?.stop());

  const create = async (claim: string, spec: Partial<V1Pod['spec']> = {}, metadata: V1Pod['metadata'] = {}): Promise<string> => {
    const name = `sched-${++n}`;
    const body = readerPod(name, 'media', claim, spec);
    body.metadata = { ...body.metadata, ...metadata };
    await core.createNamespacedPod({ namespace: 'media', body });
    return name;
  };
  const read = (name: string) => core.readNamespacedPod({ name, namespace: 'media' });
  const nodeOf = (name: string) => eventually(`${name} scheduled`, async () => (await read(name)).spec?.nodeName);
  const phaseIs = (name: string, phase: string) => eventually(`${name} ${phase}`, async () => (await read(name)).status?.phase === phase);

  it('honours nodeSelector', async () => {
    const name = await create('archive-2019', { nodeSelector: { 'topology.kubernetes.io/zone': 'zone-b' } });
    assert.equal(await nodeOf(name), 'node-b');
  });

  it('honours required node affinity on kubernetes.io/hostname', async () => {
    const affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['node-a'] }] }] } } };
    const name = await create('archive-2019', { affinity });
    assert.equal(await nodeOf(name), 'node-a');
  });

  it('keeps pods off the tainted node unless they tolerate the taint', async () => {
    const pinned = { nodeSelector: { 'kubernetes.io/hostname': 'node-c' } };
    const refused = await create('archive-2019', pinned);
    const condition = await eventually('Unschedulable', async () => (await read(refused)).status?.conditions?.find((c) => c.reason === 'Unschedulable'));
    assert.match(condition.message ?? '', /untolerated taint \{dedicated: storage\}/);
    await core.deleteNamespacedPod({ name: refused, namespace: 'media', gracePeriodSeconds: 0 });
    const tolerated = await create('archive-2019', { ...pinned, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'storage', effect: 'NoSchedule' }] });
    assert.equal(await nodeOf(tolerated), 'node-c');
    await phaseIs(tolerated, 'Running');
  });

  it('holds a second pod of a ReadWriteOnce claim on another node in ContainerCreating with a Multi-Attach event, until the first goes', async () => {
    const first = await create('archive-2019', { nodeSelector: { 'kubernetes.io/hostname': 'node-a' } });
    await phaseIs(first, 'Running');
    const second = await create('archive-2019', { nodeSelector: { 'kubernetes.io/hostname': 'node-b' } });
    const waiting = await eventually('ContainerCreating', async () => (await read(second)).status?.containerStatuses?.[0]?.state?.waiting?.reason);
    assert.equal(waiting, 'ContainerCreating');
    const events = (await core.listNamespacedEvent({ namespace: 'media', fieldSelector: `involvedObject.name=${second}` })).items;
    assert.ok(events.some((e) => e.reason === 'FailedAttachVolume' && /^Multi-Attach error for volume "pvc-.*" Volume is already used by pod\(s\) sched-\d+$/.test(e.message ?? '')), JSON.stringify(events.map((e) => e.message)));
    await core.deleteNamespacedPod({ name: first, namespace: 'media', gracePeriodSeconds: 0 });
    await phaseIs(second, 'Running');
  });

  it('lets a second pod on the same node share a ReadWriteOnce claim', async () => {
    const a = await create('archive-2019', { nodeSelector: { 'kubernetes.io/hostname': 'node-a' } });
    const b = await create('archive-2019', { nodeSelector: { 'kubernetes.io/hostname': 'node-a' } });
    await phaseIs(a, 'Running');
    await phaseIs(b, 'Running');
  });

  it('leaves a pod Pending and Unschedulable when its claim is missing or Pending', async () => {
    const missing = await create('no-such-claim');
    const m = await eventually('Unschedulable', async () => (await read(missing)).status?.conditions?.find((c) => c.reason === 'Unschedulable'));
    assert.match(m.message ?? '', /persistentvolumeclaim "no-such-claim" not found/);
    const pending = await create('scratch');
    const p = await eventually('Unschedulable', async () => (await read(pending)).status?.conditions?.find((c) => c.reason === 'Unschedulable'));
    assert.match(p.message ?? '', /unbound immediate PersistentVolumeClaims/);
    assert.equal((await read(pending)).status?.phase, 'Pending');
  });

  it('fails a pod that outlives activeDeadlineSeconds with DeadlineExceeded', async () => {
    const name = await create('archive-2019', { activeDeadlineSeconds: 1 });
    await phaseIs(name, 'Running');
    await phaseIs(name, 'Failed');
    const pod = await read(name);
    assert.equal(pod.status?.reason, 'DeadlineExceeded');
    const events = (await core.listNamespacedEvent({ namespace: 'media', fieldSelector: `involvedObject.name=${name}` })).items;
    assert.ok(events.some((e) => e.reason === 'DeadlineExceeded'));
  });

  it('deletes gracefully: Terminating for the grace period when the container ignores SIGTERM, with watch events', async () => {
    // `sleep` as a container's PID 1 has no SIGTERM handler, so the kernel drops the signal and only SIGKILL ends it.
    const name = await create('archive-2019');
    await phaseIs(name, 'Running');
    const seen: string[] = [];
    let last: V1Pod | undefined;
    let gone!: () => void;
    const deleted = new Promise<void>((r) => (gone = r));
    const req = await new Watch(sb.kubeConfig).watch('/api/v1/namespaces/media/pods', { fieldSelector: `metadata.name=${name}`, resourceVersion: (await read(name)).metadata?.resourceVersion }, (type, obj: V1Pod) => {
      seen.push(`${type}:${obj.metadata?.deletionTimestamp ? 'terminating' : 'live'}`);
      last = obj;
      if (type === 'DELETED') gone();
    }, () => undefined);
    const started = Date.now();
    const returned = await core.deleteNamespacedPod({ name, namespace: 'media', gracePeriodSeconds: 3 });
    assert.ok(returned.metadata?.deletionTimestamp, 'delete returns the pod marked for deletion');
    await deleted;
    req.abort();
    assert.ok(Date.now() - started >= 2900, `took ${Date.now() - started} ms`);
    assert.deepEqual([seen[0], seen.at(-1)], ['MODIFIED:terminating', 'DELETED:terminating']);
    assert.ok(seen.every((s) => s.endsWith(':terminating')), seen.join(', '));
    // The kubelet reports the killed container before the object goes.
    assert.deepEqual(last?.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 137);
  });

  it('binds a WaitForFirstConsumer claim when its first pod is scheduled', async () => {
    await core.createNamespacedPersistentVolumeClaim({ namespace: 'media', body: { metadata: { name: 'wffc' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local-wait', resources: { requests: { storage: '1Gi' } } } } });
    assert.equal((await core.readNamespacedPersistentVolumeClaim({ name: 'wffc', namespace: 'media' })).status?.phase, 'Pending');
    const name = await create('wffc');
    await phaseIs(name, 'Running');
    const pvc = await core.readNamespacedPersistentVolumeClaim({ name: 'wffc', namespace: 'media' });
    assert.equal(pvc.status?.phase, 'Bound');
    const pv = await core.readPersistentVolume({ name: pvc.spec!.volumeName! });
    assert.deepEqual(pv.spec?.nodeAffinity?.required?.nodeSelectorTerms?.[0]?.matchExpressions?.[0]?.values, [(await read(name)).spec?.nodeName]);
  });
});
