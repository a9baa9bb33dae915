import assert from 'node:assert/strict';
import { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { backupVolume } from '../../../src/core/backup/backupVolume';
import { LEASE_ANNOTATIONS, readLease } from '../../../src/core/backup/helperOwner';
import { leaseRenewSeconds } from '../../../src/core/backup/helperLeaseScript';
import { nkvmCommand, runNkvm, sandboxEnv } from '../cli/runNkvm';
import { boundClaim, seedTree } from '../restore/restoreFixture';
import { eventually, requireKubectl, SandboxFixture, startSandbox } from '../sandboxFixture';

const LEASE = 8;
const HELPERS = 'app.kubernetes.io/component=backup-helper';

describe('helper pods end with their owner, and leftovers are only what nobody uses', function () {
  this.timeout(180_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;
  const children: ChildProcess[] = [];
  before(async function () {
    requireKubectl(this);
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  after(async () => sb?.stop());

  const env = (): Record<string, string> => ({ ...sandboxEnv(sb), NKVM_HELPER_LEASE_SECONDS: String(LEASE) });
  const nkvm = (args: string[]) => runNkvm(args, { cwd: sb.dir, env: env() });
  /** Helper pods as the installed kubectl sees them (own cache folder per call). */
  const kubectlHelpers = async (): Promise<V1Pod[]> => {
    const r = await sb.kubectl(['get', 'pods', '-A', '-l', HELPERS, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout.toString('utf8')) as { items: V1Pod[] }).items;
  };
  const helperOf = async (pvc: string) => (await kubectlHelpers()).find((p) => p.metadata?.annotations?.['nkvm.dev/pvc'] === pvc);
  /** Runs a process that holds a helper on `namespace/pvc` and renews its lease until its stdin closes. */
  const holdHelper = async (namespace: string, pvc: string): Promise<{ child: ChildProcess; pod: string }> => {
    const child = spawn(process.execPath, [...nkvmCommand().slice(0, 2), join(__dirname, 'leaseHolder.ts'), namespace, pvc, String(LEASE)], {
      env: { ...process.env, KUBECONFIG: sb.kubeconfigPath },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const pod = await eventually(`the lease holder for ${pvc}`, () => (out.includes('\n') ? out.trim().split('/')[1] : undefined), 30_000);
    return { child, pod };
  };

  it('a backup killed with SIGKILL mid-stream leaves a helper that stops by itself within its lease', async () => {
    const root = await boundClaim(sb, 'media', 'big-data');
    seedTree(root, 150 * 1024 * 1024);
    const backupDir = env().NKVM_BACKUP_DIR;
    const child = spawn(process.execPath, [...nkvmCommand(), 'backup', 'media/big-data'], { cwd: sb.dir, env: { ...process.env, ...env() }, stdio: 'ignore' });
    children.push(child);
    // Mid-stream: the helper runs and archive bytes have reached the backup folder.
    await eventually('archive bytes arriving', () => bytesUnder(backupDir) > 1024 * 1024, 60_000);
    const helper = await helperOf('big-data');
    assert.equal(helper?.status?.phase, 'Running');
    assert.equal(helper?.metadata?.annotations?.[LEASE_ANNOTATIONS.leaseSeconds], String(LEASE));
    child.kill('SIGKILL');
    // The lease runs from the owner's last renewal, which a loaded machine may have made a few seconds before the kill.
    await new Promise((r) => setTimeout(r, 300));
    const renewed = readLease((await helperOf('big-data'))!);
    assert.ok(renewed, 'the helper records when its lease was last renewed');

    const ended = await eventually(
      'the orphaned helper to stop',
      async () => {
        const pod = await helperOf('big-data');
        return !pod || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' ? (pod ?? 'gone') : undefined;
      },
      (LEASE + 30) * 1000,
    );
    // The pod reads its lease file, touched with the annotation but possibly one renewal behind it when the kill cut that exec.
    const sinceRenewal = Date.now() - renewed.renewedAt;
    assert.ok(sinceRenewal >= (LEASE - leaseRenewSeconds(LEASE)) * 1000, `it stopped ${sinceRenewal} ms after its last renewal, before its lease ran out`);
    if (ended !== 'gone') assert.equal((ended as V1Pod).status?.phase, 'Succeeded', 'a lease that runs out ends the pod cleanly');

    // What it left is offered by `nkvm cleanup`, which waits until the pod is gone.
    const cleanup = await nkvm(['cleanup']);
    assert.equal(cleanup.code, 0, cleanup.stderr);
    if (ended !== 'gone') assert.match(cleanup.stdout, /^removed\s+media\/nkvm-backup-big-data-\S+\s+Succeeded\s+it has ended \(Succeeded\)$/m);
    assert.equal(await helperOf('big-data'), undefined);
  });

  it('`nkvm cleanup` removes helpers whose owner died and never one whose lease another process renews', async () => {
    const live = await holdHelper('analytics', 'reports');
    const dead = await holdHelper('media', 'archive-2019');
    dead.child.kill('SIGKILL');

    const dry = await nkvm(['cleanup', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`^kept\\s+analytics/${live.pod}\\s+Running\\s+in use by the nkvm command \\(pid ${live.child.pid} on .+\\): lease renewed \\d+ s ago$`, 'm'));

    // Once the dead owner's lease (and the margin for clocks) has passed, its helper is offered.
    const offered = await eventually(
      'the dead owner’s helper to be offered',
      async () => {
        const r = await nkvm(['cleanup', '--dry-run', '--namespace', 'media']);
        // Its own line: what an earlier test left in the namespace must not stand in for it.
        return new RegExp(`^would remove\\s+media/${dead.pod}\\s`, 'm').test(r.stdout) ? r.stdout : undefined;
      },
      (LEASE + 45) * 1000,
    );
    assert.match(offered, new RegExp(`^would remove\\s+media/${dead.pod}\\s+\\S+\\s+(it has ended \\(Succeeded\\)|its lease ran out: the nkvm command \\(pid ${dead.child.pid} on .+\\) last renewed it \\d+ s ago \\(lease ${LEASE} s\\))$`, 'm'));

    const removed = await nkvm(['cleanup']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, new RegExp(`^removed\\s+media/${dead.pod}\\s`, 'm'));
    assert.match(removed.stdout, new RegExp(`^kept\\s+analytics/${live.pod}\\s`, 'm'));
    const left = (await kubectlHelpers()).map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);
    assert.deepEqual(left, [`analytics/${live.pod}`], 'the dead helper is gone once cleanup reports it, the live one stays');
    assert.equal((await helperOf('reports'))?.status?.phase, 'Running');

    // Its owner still works with it, then ends it.
    live.child.stdin!.end();
    const code = await new Promise((resolve) => live.child.on('exit', resolve));
    assert.equal(code, 0);
    assert.equal(await helperOf('reports'), undefined);
  });

  it('a backup whose lease cannot be recorded on the pod (patch forbidden) fails before streaming and leaves no helper', async () => {
    const removeFault = sb.cluster.faults.inject({ kind: 'forbid', verb: 'patch', resource: 'pods', namespace: 'analytics' });
    try {
      const result = await backupVolume(
        sb.kubeConfig,
        { context: 'sandbox-nkvm', namespace: 'analytics', pvc: 'reports' },
        { backupDir: join(sb.dir, 'no-patch'), helperImage: 'alpine:3.20', helperPodTimeoutSeconds: 30, helperPod: { leaseSeconds: LEASE } },
        'no-patch',
      );
      assert.equal(result.status, 'failed');
      assert.equal(result.stage, 'wait');
      assert.match(result.message, /patch on pods is forbidden in "analytics", so other windows and nkvm cleanup would take the working helper for a leftover/);
      assert.match(`${result.message} ${result.nextStep ?? ''}`, /RoleBinding nkvm-runtime/);
      assert.equal(bytesUnder(join(sb.dir, 'no-patch')), 0, 'nothing was written');
      const helpers = await core.listNamespacedPod({ namespace: 'analytics', labelSelector: HELPERS });
      assert.deepEqual(helpers.items.filter((p) => p.metadata?.annotations?.['nkvm.dev/run-id'] === 'no-patch' || p.metadata?.labels?.['nkvm.dev/run-id'] === 'no-patch'), []);
    } finally {
      removeFault();
    }
  });

  it('a backup reports cleanup done only once its helper is gone, deleted with its grace period', async () => {
    const from = sb.cluster.requests.length;
    const result = await backupVolume(
      sb.kubeConfig,
      { context: 'sandbox-nkvm', namespace: 'analytics', pvc: 'reports' },
      { backupDir: join(sb.dir, 'inproc'), helperImage: 'alpine:3.20', helperPodTimeoutSeconds: 30, helperPod: { leaseSeconds: LEASE } },
      'graceful',
    );
    assert.equal(result.status, 'success', result.message);
    await assert.rejects(core.readNamespacedPod({ namespace: 'analytics', name: result.helperPod! }), (e: { code?: number }) => e.code === 404);
    const deletes = sb.cluster.requests.slice(from).filter((r) => r.method === 'DELETE' && r.path.endsWith(`/pods/${result.helperPod}`));
    assert.equal(deletes.length, 1);
    assert.doesNotMatch(deletes[0].query, /gracePeriodSeconds=0/, 'the helper is not force-deleted');
    // Before it returned, the backup saw the API server answer 404 for the deleted pod.
    const podRequests = sb.cluster.requests.slice(from).filter((r) => r.path.endsWith(`/pods/${result.helperPod}`));
    const afterDelete = podRequests.slice(podRequests.indexOf(deletes[0]) + 1);
    assert.deepEqual(afterDelete.at(-1) && [afterDelete.at(-1)!.method, afterDelete.at(-1)!.status], ['GET', 404], 'the pod being gone was confirmed');
    const renewals = sb.cluster.requests.slice(from).filter((r) => r.method === 'PATCH' && r.path.endsWith(`/pods/${result.helperPod}`));
    assert.ok(renewals.length >= 1, 'the lease was renewed on the pod');
  });
});

function bytesUnder(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}
