import { CoreV1Api, V1Container, V1Pod, Watch } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execCollect } from '../podHelpers';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

const NS = 'kubelet';

describe('sandbox kubelet: containers run their command, stop, restart and release their volumes', function () {
  this.timeout(60_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;
  let n = 0;

  before(async () => {
    sb = await startSandbox({ timing: { backoffMs: 300 } });
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
  });
  after(async () => sb?.stop());

  const claim = async (): Promise<string> => {
    const name = `vol-${++n}`;
    await core.createNamespacedPersistentVolumeClaim({ namespace: NS, body: { metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } } });
    await eventually(`${name} bound`, async () => (await core.readNamespacedPersistentVolumeClaim({ name, namespace: NS })).status?.phase === 'Bound');
    return name;
  };
  const create = async (container: Partial<V1Container>, spec: Partial<V1Pod['spec']> = {}, claimName?: string): Promise<string> => {
    const name = `pod-${++n}`;
    const volumes = claimName ? [{ name: 'data', persistentVolumeClaim: { claimName } }] : [];
    const volumeMounts = claimName ? [{ name: 'data', mountPath: '/data' }] : [];
    await core.createNamespacedPod({
      namespace: NS,
      body: { metadata: { name }, spec: { containers: [{ name: 'main', image: 'alpine:3.20', volumeMounts, ...container }], volumes, ...spec } },
    });
    return name;
  };
  const read = (name: string) => core.readNamespacedPod({ name, namespace: NS });
  const phaseIs = (name: string, phase: string, timeoutMs = 10_000) => eventually(`${name} ${phase}`, async () => (await read(name)).status?.phase === phase, timeoutMs);
  const terminated = async (name: string) => (await read(name)).status?.containerStatuses?.[0]?.state?.terminated;
  const onNode = (node: string) => ({ nodeSelector: { 'kubernetes.io/hostname': node } });
  const stopsOnTerm = "trap 'exit 0' TERM; sleep infinity & wait";

  it('runs the container command with its args, user, env and workingDir, and the pod succeeds when it exits 0', async () => {
    const vol = await claim();
    const name = await create(
      {
        command: ['sh', '-c'],
        args: ['echo "$(id -u):$(id -g) $GREETING $(pwd)" > /data/ran'],
        env: [{ name: 'GREETING', value: 'hello' }],
        workingDir: '/data',
        securityContext: { runAsUser: 1000, runAsGroup: 3000 },
      },
      // A fresh volume's root is root's 0755: the user writes there through fsGroup, as on a real node.
      { restartPolicy: 'Never', securityContext: { fsGroup: 3000 } },
      vol,
    );
    await phaseIs(name, 'Succeeded');
    assert.equal(readFileSync(join(sb.cluster.volumePath(NS, vol), 'ran'), 'utf8'), '1000:3000 hello /data\n');
    const state = await terminated(name);
    assert.equal(state?.exitCode, 0);
    assert.equal(state?.reason, 'Completed');
    assert.ok(state?.startedAt && state.finishedAt, JSON.stringify(state));
    const pod = await read(name);
    assert.equal(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
  });

  it('fails a Never pod whose command exits non-zero, with reason Error and the exit code', async () => {
    const name = await create({ command: ['sh', '-c', 'exit 3'] }, { restartPolicy: 'Never' });
    await phaseIs(name, 'Failed');
    const state = await terminated(name);
    assert.equal(state?.exitCode, 3);
    assert.equal(state?.reason, 'Error');
  });

  it('runs sh for an alpine image without a command, which ends at once without a terminal', async () => {
    const name = await create({}, { restartPolicy: 'Never' });
    await phaseIs(name, 'Succeeded');
    assert.equal((await terminated(name))?.reason, 'Completed');
  });

  it('restarts a failing container under restartPolicy Always: restartCount grows, lastState keeps the exit, CrashLoopBackOff between', async () => {
    const name = await create({ command: ['sh', '-c', 'exit 2'] });
    const status = await eventually('two restarts', async () => {
      const s = (await read(name)).status?.containerStatuses?.[0];
      return (s?.restartCount ?? 0) >= 2 ? s : undefined;
    });
    assert.equal(status.lastState?.terminated?.exitCode, 2);
    assert.equal(status.lastState?.terminated?.reason, 'Error');
    assert.equal((await read(name)).status?.phase, 'Running');
    const seen = await eventually('CrashLoopBackOff', async () => (await read(name)).status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff');
    assert.ok(seen);
    await core.deleteNamespacedPod({ name, namespace: NS, gracePeriodSeconds: 0 });
  });

  it('restarts under OnFailure only until the command succeeds', async () => {
    const vol = await claim();
    // Fails on the first run, succeeds on the second: the volume remembers the attempt.
    const name = await create({ command: ['sh', '-c', '[ -e /data/tried ] && exit 0; touch /data/tried; exit 1'] }, { restartPolicy: 'OnFailure' }, vol);
    await phaseIs(name, 'Succeeded');
    const status = (await read(name)).status?.containerStatuses?.[0];
    assert.equal(status?.restartCount, 1);
    assert.equal(status?.state?.terminated?.exitCode, 0);
  });

  it('refuses exec into a container that is not running, as the API server relays the kubelet: container not found', async () => {
    const name = await create({ command: ['true'] }, { restartPolicy: 'Never' });
    await phaseIs(name, 'Succeeded');
    const { status } = await execCollect(sb, NS, name, ['echo', 'hi']);
    assert.equal(status.status, 'Failure');
    assert.equal(status.reason, 'InternalError');
    assert.equal(status.message, 'Internal error occurred: unable to upgrade connection: container not found ("main")');
  });

  it('shares one emptyDir folder between the main process and exec sessions, mode 0777, removed with the pod', async () => {
    const name = `pod-${++n}`;
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name },
        spec: {
          restartPolicy: 'Never',
          containers: [{ name: 'main', image: 'alpine:3.20', command: ['sh', '-c', 'until [ -e /tmp/go ]; do sleep 0.1; done; cat /tmp/go > /tmp/seen'], volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }] }],
          volumes: [{ name: 'tmp', emptyDir: {} }],
        },
      },
    });
    await phaseIs(name, 'Running');
    const uid = (await read(name)).metadata!.uid!;
    const folder = join(sb.cluster.data.root, 'pods', uid, 'tmp');
    assert.equal((statSync(folder).mode & 0o777).toString(8), '777');
    const touched = await execCollect(sb, NS, name, ['sh', '-c', 'echo from-exec > /tmp/go']);
    assert.equal(touched.status.status, 'Success', touched.stderr);
    await phaseIs(name, 'Succeeded');
    assert.equal(readFileSync(join(folder, 'seen'), 'utf8'), 'from-exec\n');
    await core.deleteNamespacedPod({ name, namespace: NS });
    await eventually('the emptyDir to go with the pod', () => !existsSync(join(sb.cluster.data.root, 'pods', uid)));
  });

  it('lets a pod on another node attach a ReadWriteOnce volume once the pod holding it has completed', async () => {
    const vol = await claim();
    const first = await create({ command: ['sh', '-c', 'sleep 1'] }, { restartPolicy: 'Never', ...onNode('node-a') }, vol);
    await phaseIs(first, 'Running');
    const second = await create({ command: ['sh', '-c', stopsOnTerm] }, onNode('node-b'), vol);
    await eventually('Multi-Attach while the first runs', async () => (await read(second)).status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ContainerCreating');
    await phaseIs(first, 'Succeeded');
    await phaseIs(second, 'Running');
    await core.deleteNamespacedPod({ name: second, namespace: NS });
  });

  it('stops a deleted pod with SIGTERM: a main process that handles it exits at once, taking exec sessions with it', async () => {
    const vol = await claim();
    const name = await create({ command: ['sh', '-c', "trap 'echo stopped > /data/term; exit 0' TERM; sleep infinity & wait"] }, { terminationGracePeriodSeconds: 30 }, vol);
    await phaseIs(name, 'Running');
    const execd = execCollect(sb, NS, name, ['sh', '-c', 'touch /data/execd; exec sleep 1000']);
    await eventually('the exec session to start', () => existsSync(join(sb.cluster.volumePath(NS, vol), 'execd')));
    const started = Date.now();
    const deleting = await core.deleteNamespacedPod({ name, namespace: NS });
    assert.ok(deleting.metadata?.deletionTimestamp, 'Terminating while the container stops');
    await eventually('the pod to be gone', async () => !(await core.listNamespacedPod({ namespace: NS })).items.some((p) => p.metadata?.name === name));
    assert.ok(Date.now() - started < 10_000, 'gone well before the 30 s grace period');
    assert.equal(readFileSync(join(sb.cluster.volumePath(NS, vol), 'term'), 'utf8'), 'stopped\n');
    const { status } = await execd;
    assert.equal(status.status, 'Failure');
    assert.equal(status.details?.causes?.[0]?.message, '137');
  });

  it('keeps a gracefully deleted pod Terminating, and its ReadWriteOnce volume attached, until SIGKILL ends a container that ignores SIGTERM', async () => {
    const vol = await claim();
    const first = await create({ command: ['sleep', 'infinity'] }, onNode('node-a'), vol);
    await phaseIs(first, 'Running');
    await core.deleteNamespacedPod({ name: first, namespace: NS, gracePeriodSeconds: 3 });
    const deletedAt = Date.now();
    const second = await create({ command: ['sh', '-c', stopsOnTerm] }, onNode('node-b'), vol);
    const events = await eventually('a Multi-Attach event', async () => {
      const list = (await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${second}` })).items;
      return list.some((e) => e.reason === 'FailedAttachVolume') ? list : undefined;
    });
    assert.match(events.find((e) => e.reason === 'FailedAttachVolume')!.message!, new RegExp(`Volume is already used by pod\\(s\\) ${first}$`));
    // SIGTERM cannot end `sleep` as PID 1: the pod stays until SIGKILL at the end of its 3 s grace period.
    await new Promise((r) => setTimeout(r, Math.max(0, 2000 - (Date.now() - deletedAt))));
    assert.ok((await read(first)).metadata?.deletionTimestamp, 'the first pod is still there, Terminating');
    assert.ok((await read(second)).status?.containerStatuses?.[0]?.state?.waiting, 'the second still waits for the volume');
    await phaseIs(second, 'Running');
    await assert.rejects(read(first), (e: { code?: number }) => e.code === 404);
    await core.deleteNamespacedPod({ name: second, namespace: NS });
  });

  it('removes a pod deleted with gracePeriodSeconds 0 at once, but detaches its volume only once its processes are dead', async () => {
    const vol = await claim();
    const first = await create({ command: ['sleep', 'infinity'] }, onNode('node-a'), vol);
    await phaseIs(first, 'Running');
    await core.deleteNamespacedPod({ name: first, namespace: NS, gracePeriodSeconds: 0 });
    await assert.rejects(read(first), (e: { code?: number }) => e.code === 404);
    const second = await create({ command: ['sh', '-c', stopsOnTerm] }, onNode('node-b'), vol);
    await eventually('ContainerCreating while the killed container dies', async () => (await read(second)).status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ContainerCreating');
    await phaseIs(second, 'Running');
    await core.deleteNamespacedPod({ name: second, namespace: NS });
  });

  it('keeps a container of an image without a command running until it is told to stop, then it ends cleanly', async () => {
    const name = await create({ image: 'nginx:1.27' });
    await phaseIs(name, 'Running');
    await new Promise((r) => setTimeout(r, 500));
    assert.ok((await read(name)).status?.containerStatuses?.[0]?.state?.running, 'still running');
    let last: V1Pod | undefined;
    let gone!: () => void;
    const deleted = new Promise<void>((r) => (gone = r));
    const query = { fieldSelector: `metadata.name=${name}`, resourceVersion: (await read(name)).metadata?.resourceVersion };
    const req = await new Watch(sb.kubeConfig).watch(`/api/v1/namespaces/${NS}/pods`, query, (type, obj: V1Pod) => {
      last = obj;
      if (type === 'DELETED') gone();
    }, () => undefined);
    await core.deleteNamespacedPod({ name, namespace: NS });
    await deleted;
    req.abort();
    assert.deepEqual(last?.status?.containerStatuses?.[0]?.state?.terminated?.reason, 'Completed');
  });
});
