import { CoreV1Api, V1Container, V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { eventually, requireKubectl, SandboxFixture, startSandbox } from '../sandboxFixture';

const NS = 'tables';

/** kubectl's table as rows of cells: it pads columns with at least two spaces, and names hold single spaces. */
function parseTable(text: string): string[][] {
  return text.trimEnd().split('\n').map((line) => line.trim().split(/\s{2,}/));
}

describe('kubectl get prints the real server columns from the sandbox Table', function () {
  this.timeout(60_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;

  const create = async (name: string, container: Partial<V1Container>, spec: Partial<V1Pod['spec']> = {}): Promise<void> => {
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name }, spec: { containers: [{ name: 'main', image: 'alpine:3.20', ...container }], ...spec } } });
  };
  const read = (name: string) => core.readNamespacedPod({ name, namespace: NS });

  before(async function () {
    requireKubectl(this);
    sb = await startSandbox({ timing: { backoffMs: 60_000 } });
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await create('running', { command: ['sleep', 'infinity'] });
    await create('completed', { command: ['true'] }, { restartPolicy: 'Never' });
    await create('failed', { command: ['sh', '-c', 'exit 4'] }, { restartPolicy: 'Never' });
    await create('crashing', { command: ['sh', '-c', 'exit 1'] });
    await create('terminating', { command: ['sleep', 'infinity'] }, { terminationGracePeriodSeconds: 60 });
    await create('oom', { command: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=256M', 'count=1'], resources: { limits: { memory: '32Mi' } } }, { restartPolicy: 'Never' });
    await eventually('the pods to settle', async () => {
      const phases = await Promise.all(['running', 'completed', 'failed', 'oom', 'terminating'].map(async (n) => (await read(n)).status?.phase));
      const crashing = (await read('crashing')).status?.containerStatuses?.[0];
      return phases.join() === 'Running,Succeeded,Failed,Failed,Running' && crashing?.state?.waiting?.reason === 'CrashLoopBackOff';
    }, 15_000);
    await core.deleteNamespacedPod({ name: 'terminating', namespace: NS });
  });
  after(async () => sb?.stop());

  it('prints pods with NAME READY STATUS RESTARTS AGE and the status kubectl derives from the containers', async () => {
    const r = await sb.kubectl(['get', 'pods', '-n', NS]);
    assert.equal(r.code, 0, r.stderr);
    const [header, ...rows] = parseTable(r.stdout.toString());
    assert.deepEqual(header, ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    const byName = new Map(rows.map((row) => [row[0], row]));
    assert.deepEqual(byName.get('running')?.slice(1, 4), ['1/1', 'Running', '0']);
    assert.deepEqual(byName.get('completed')?.slice(1, 4), ['0/1', 'Completed', '0']);
    assert.deepEqual(byName.get('failed')?.slice(1, 4), ['0/1', 'Error', '0']);
    assert.deepEqual(byName.get('terminating')?.slice(1, 3), ['1/1', 'Terminating']);
    const oom = byName.get('oom');
    assert.deepEqual(oom?.slice(1, 3), ['0/1', 'OOMKilled'], r.stdout.toString());
    const crashing = byName.get('crashing');
    assert.deepEqual(crashing?.slice(1, 3), ['0/1', 'CrashLoopBackOff']);
    assert.match(crashing?.[3] ?? '', /^[1-9]\d* \(\d+s ago\)$/);
    for (const row of rows) assert.match(row.at(-1)!, /^\d+s$/);
  });

  it('adds IP, NODE, NOMINATED NODE and READINESS GATES with -o wide', async () => {
    const r = await sb.kubectl(['get', 'pods', '-n', NS, '-o', 'wide']);
    assert.equal(r.code, 0, r.stderr);
    const [header, ...rows] = parseTable(r.stdout.toString());
    assert.deepEqual(header, ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    const running = rows.find((row) => row[0] === 'running')!;
    const pod = await read('running');
    assert.deepEqual(running.slice(5), [pod.status!.podIP!, pod.spec!.nodeName!, '<none>', '<none>']);
  });

  it('prints claims and pods together with `get pvc,pods`, claims with the server columns', async () => {
    const r = await sb.kubectl(['get', 'pvc,pods', '-n', 'shop']);
    assert.equal(r.code, 0, r.stderr);
    const [claims, pods] = r.stdout.toString().split(/\n\s*\n/);
    const [header, ...rows] = parseTable(claims!);
    assert.deepEqual(header, ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE']);
    const db = rows.find((row) => row[0] === 'persistentvolumeclaim/data-orders-db-0')!;
    const pvc = await core.readNamespacedPersistentVolumeClaim({ name: 'data-orders-db-0', namespace: 'shop' });
    assert.deepEqual(db.slice(1, 7), ['Bound', pvc.spec!.volumeName!, '10Gi', 'RWO', 'standard', '<unset>']);
    const [podHeader, ...podRows] = parseTable(pods ?? '');
    assert.deepEqual(podHeader, ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    assert.deepEqual(podRows.find((row) => row[0] === 'pod/orders-db-0')?.slice(1, 3), ['1/1', 'Running']);
  });

  it('prints a Pending claim without volume, capacity or access modes', async () => {
    const r = await sb.kubectl(['get', 'pvc', 'scratch', '-n', 'media']);
    assert.equal(r.code, 0, r.stderr);
    const [, row] = parseTable(r.stdout.toString());
    assert.deepEqual(row?.slice(0, 2), ['scratch', 'Pending']);
    assert.equal(row?.[2], 'fast-nvme', 'no VOLUME, CAPACITY or ACCESS MODES cells to print, so STORAGECLASS comes next');
  });
});
