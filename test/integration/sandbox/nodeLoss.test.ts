import { CoreV1Api, Exec, V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

const NS = 'outage';
const NODE = 'node-b';

describe('sandbox node loss: a node that reboots takes its containers and exec streams with it', function () {
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

  const create = async (spec: Partial<V1Pod['spec']> = {}): Promise<string> => {
    const name = `pod-${++n}`;
    const containers = [{ name: 'main', image: 'alpine:3.20', command: ['sleep', 'infinity'] }];
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name }, spec: { containers, nodeSelector: { 'kubernetes.io/hostname': NODE }, ...spec } } });
    return name;
  };
  const read = (name: string) => core.readNamespacedPod({ name, namespace: NS });
  const running = (name: string) => eventually(`${name} Running`, async () => (await read(name)).status?.phase === 'Running', 10_000);
  const nodeReady = async () => {
    const { stdout } = await sb.kubectl(['get', 'node', NODE, '-o', 'jsonpath={range .status.conditions[?(@.type=="Ready")]}{.status} {.reason}: {.message}{end}']);
    return stdout.toString();
  };

  it('marks the node Unknown and tainted, keeps its pods Running but not Ready, and refuses exec until it returns', async () => {
    const name = await create({ restartPolicy: 'Never' });
    await running(name);
    const back = sb.cluster.loseNode(NODE, { downMs: 2_500, monitorGraceMs: 200 });

    await eventually('node Unknown', async () => (await nodeReady()).startsWith('Unknown'));
    assert.equal(await nodeReady(), 'Unknown NodeStatusUnknown: Kubelet stopped posting node status.');
    const taints = (await core.readNode({ name: NODE })).spec?.taints?.map((t) => `${t.key}:${t.effect}`);
    assert.deepEqual(taints, ['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
    const pod = await eventually('pod not Ready', async () => {
      const p = await read(name);
      return p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False' ? p : undefined;
    });
    assert.equal(pod.status?.phase, 'Running', 'nobody reports the containers gone while the kubelet is away');

    const exec = await sb.kubectl(['exec', '-n', NS, name, '--', 'true']);
    assert.notEqual(exec.code, 0);
    assert.match(exec.stderr, new RegExp(`dial tcp ${pod.status?.hostIP?.replace(/\./g, '\\.')}:10250: connect: connection refused`));

    await back;
    assert.equal(await nodeReady(), 'True KubeletReady: kubelet is posting ready status');
    assert.equal((await core.readNode({ name: NODE })).spec?.taints, undefined);
    const failed = await read(name);
    assert.equal(failed.status?.phase, 'Failed', 'a restartPolicy Never pod whose container vanished fails');
    const terminated = failed.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(terminated?.reason, 'ContainerStatusUnknown');
    assert.equal(terminated?.exitCode, 137);
    const again = await sb.kubectl(['exec', '-n', NS, name, '--', 'true']);
    assert.match(again.stderr, /cannot exec into a container in a completed pod; current phase is Failed/);
  });

  it('breaks a running exec stream without an exit status', async () => {
    const name = await create({ restartPolicy: 'Never' });
    await running(name);
    const chunks: Buffer[] = [];
    let status: unknown;
    const sink = new Writable({ write: (c, _e, cb) => (chunks.push(Buffer.from(c)), cb()) });
    const ws = await new Exec(sb.kubeConfig).exec(NS, name, 'main', ['sh', '-c', 'while true; do echo tick; sleep 0.05; done'], sink, null, null, false, (s) => (status = s));
    const closed = new Promise<number>((resolve) => ws.on('close', (code: number) => resolve(code)));
    await eventually('output flowing', () => chunks.length > 0);
    const back = sb.cluster.loseNode(NODE, { downMs: 1_000 });
    assert.equal(await closed, 1006, 'the connection drops (abnormal closure), as a cut stream does');
    assert.equal(status, undefined, 'no status: the command neither succeeded nor failed as far as the client knows');
    await back;
  });

  it('restarts a restartPolicy Always container the reboot took, its last state an Unknown exit 255', async () => {
    const name = await create();
    await running(name);
    await sb.cluster.loseNode(NODE, { downMs: 500 });
    const pod = await eventually('restarted', async () => {
      const p = await read(name);
      const c = p.status?.containerStatuses?.[0];
      return c?.restartCount === 1 && c.state?.running ? p : undefined;
    });
    const last = pod.status?.containerStatuses?.[0]?.lastState?.terminated;
    assert.equal(last?.reason, 'Unknown');
    assert.equal(last?.exitCode, 255);
    assert.equal(pod.status?.phase, 'Running');
  });

  it('keeps new pods off the unreachable node and a deleted pod Terminating until the node returns', async () => {
    const old = await create({ restartPolicy: 'Never' });
    await running(old);
    const back = sb.cluster.loseNode(NODE, { downMs: 2_000, monitorGraceMs: 100 });
    await eventually('node Unknown', async () => (await nodeReady()).startsWith('Unknown'));
    await core.deleteNamespacedPod({ name: old, namespace: NS, gracePeriodSeconds: 1 });
    const fresh = await create();
    const message = await eventually('unschedulable', async () => {
      const c = (await read(fresh)).status?.conditions?.find((x) => x.type === 'PodScheduled');
      return c?.reason === 'Unschedulable' ? c.message : undefined;
    });
    assert.match(message!, /1 node\(s\) had untolerated taint \{node\.kubernetes\.io\/unreachable: \}/);
    await new Promise((r) => setTimeout(r, 1_200));
    const terminating = await read(old);
    assert.ok(terminating.metadata?.deletionTimestamp, 'the deleted pod is still there, Terminating');
    await back;
    await running(fresh);
    await eventually('deleted pod gone', async () => !(await core.listNamespacedPod({ namespace: NS })).items.some((p) => p.metadata?.name === old));
  });
});
