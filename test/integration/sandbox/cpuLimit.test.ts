import { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execCollect } from '../podHelpers';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

const NAMESPACE = 'cpu-limits';
/** Centiseconds of wall time the busy loop runs. */
const BUSY_CS = 150;
/** USER_HZ: /proc/<pid>/stat counts CPU time in these ticks on every Linux. */
const TICKS_PER_SECOND = 100;

// Spins on shell builtins only (no child processes), for BUSY_CS of wall time by /proc/uptime, then
// prints the wall start and end and the shell's own /proc stat line, which holds its CPU time.
const BUSY_LOOP = `
read start _ < /proc/uptime
end=$(( \${start%.*}\${start#*.} + ${BUSY_CS} ))
while :; do
  read now _ < /proc/uptime
  [ "\${now%.*}\${now#*.}" -ge "$end" ] && break
done
read stat < /proc/$$/stat
echo "$start $now"
echo "$stat"
`;

function busyPod(name: string, cpuLimit?: string): V1Pod {
  return {
    metadata: { name, namespace: NAMESPACE },
    spec: {
      containers: [{ name: 'main', image: 'alpine:3.20', command: ['sleep', 'infinity'], ...(cpuLimit ? { resources: { limits: { cpu: cpuLimit } } } : {}) }],
    },
  };
}

/** CPU seconds the busy loop got per wall second, as the command itself measured it. */
async function cpuShare(sb: SandboxFixture, pod: string): Promise<number> {
  const { stdout, stderr, status } = await execCollect(sb, NAMESPACE, pod, ['sh', '-c', BUSY_LOOP]);
  assert.equal(status.status, 'Success', stderr);
  const [times, stat] = stdout.toString().trim().split('\n');
  const [start, end] = times!.split(' ').map(Number);
  // Fields after "(comm) ": state is field 3, utime 14 and stime 15.
  const fields = stat!.slice(stat!.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  return cpuSeconds / (end! - start!);
}

describe('CPU limits in the sandbox cluster (resources.limits.cpu as a CFS quota)', function () {
  this.timeout(30_000);
  let sb: SandboxFixture | undefined;
  let core: CoreV1Api;

  before(async function () {
    sb = await startSandbox();
    const enforcement = sb.cluster.cpuLimits.enforcement;
    if (enforcement.kind === 'none') {
      await sb.stop();
      sb = undefined;
      this.skip();
    }
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    await core.createNamespacedPod({ namespace: NAMESPACE, body: busyPod('limited', '250m') });
    await core.createNamespacedPod({ namespace: NAMESPACE, body: busyPod('unlimited') });
    await eventually('both pods to run', async () => (await core.listNamespacedPod({ namespace: NAMESPACE })).items.every((p) => p.status?.phase === 'Running'));
  });
  after(async () => sb?.stop());

  it('gives a command in a container limited to 250m about a quarter of a core, and one without a limit more', async () => {
    const [limited, unlimited] = await Promise.all([cpuShare(sb!, 'limited'), cpuShare(sb!, 'unlimited')]);
    // The quota allows at most one period's worth (0.025 s) more than a quarter over the interval.
    assert.ok(limited > 0.1 && limited < 0.35, `the limited command got ${limited.toFixed(2)} CPU seconds per second, expected about 0.25`);
    // Side by side on a busy machine both could get little; only a quota makes them differ this much.
    assert.ok(unlimited > 1.5 * limited, `the unlimited command got ${unlimited.toFixed(2)} CPU seconds per second, the limited one ${limited.toFixed(2)}`);
  });

  it('keeps the container cgroup while the container runs, and leaves none behind once the pod and the sandbox are gone', async () => {
    const enforcement = sb!.cluster.cpuLimits.enforcement;
    assert.ok(enforcement.kind !== 'none');
    const uid = (await core.readNamespacedPod({ namespace: NAMESPACE, name: 'limited' })).metadata!.uid!;
    const podCgroup = join(enforcement.parent, uid);
    assert.ok(existsSync(podCgroup), 'the main process of the running container is in its cgroup');

    const endless = execCollect(sb!, NAMESPACE, 'limited', ['sh', '-c', 'while :; do :; done']);
    await eventually('the endless command to start', async () => readFileSync(join(podCgroup, 'main', 'cgroup.procs'), 'utf8').trim().split('\n').length > 1);
    await core.deleteNamespacedPod({ namespace: NAMESPACE, name: 'limited', gracePeriodSeconds: 0 });
    assert.equal((await endless).status.status, 'Failure');
    await eventually('the cgroup of the killed container to go', () => !existsSync(podCgroup), 10_000);

    await sb!.stop();
    sb = undefined;
    assert.ok(!existsSync(enforcement.parent), `left behind: ${enforcement.parent} with ${existsSync(enforcement.parent) ? readdirSync(enforcement.parent).join(', ') : ''}`);
  });
});
