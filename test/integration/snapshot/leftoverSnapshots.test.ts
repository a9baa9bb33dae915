import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { deleteHelperPods, findHelperPods } from '../../../src/core/backup/leftoverHelpers';
import { createHelperOwner } from '../../../src/core/backup/helperOwner';
import { planConsistency } from '../../../src/core/snapshot/consistencyPlan';
import { PointInTimeCopy } from '../../../src/core/snapshot/pointInTimeCopy';
import { SnapshotApi } from '../../../src/core/snapshot/snapshotApi';
import { runNkvm, sandboxEnv } from '../cli/runNkvm';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

/** What a backup whose process was killed mid-way leaves: a VolumeSnapshot and the claim made from it. */
describe('snapshots and temporary claims left behind by a backup that died', function () {
  this.timeout(60_000);
  let sb: SandboxFixture;
  const namespace = 'media';

  before(async () => (sb = await startSandbox()));
  after(async () => sb?.stop());

  async function abandonedCopy(runId: string, leaseSeconds: number): Promise<PointInTimeCopy> {
    const core = sb.kubeConfig.makeApiClient(CoreV1Api);
    const snapshots = new SnapshotApi(sb.kubeConfig);
    const plan = await planConsistency(core, snapshots, namespace, 'archive-2019', 'snapshot');
    assert.equal(plan.kind, 'snapshot');
    const copy = await PointInTimeCopy.cut(core, snapshots, { namespace, pvc: 'archive-2019', runId, plan: plan as never, owner: createHelperOwner('cli'), leaseSeconds, timeoutSeconds: 10 });
    await copy.waitReady();
    await copy.createClaim();
    return copy;
  }

  it('offers those whose lease ran out with no helper of their run, keeps fresh ones, and removes the offered ones', async () => {
    const stale = await abandonedCopy('run-killed', 60);
    const fresh = await abandonedCopy('run-starting', 3600);
    // Ten minutes on, with no helper of either run: one lease has run out, the other not.
    const found = await findHelperPods(sb.kubeConfig, { now: Date.now() + 10 * 60_000 });
    const verdict = (name: string) => found.find((f) => f.name === name);
    for (const name of [stale.snapshotName, stale.claimName!]) {
      assert.equal(verdict(name)?.leftover, true, `${name}: ${verdict(name)?.reason}`);
      assert.match(verdict(name)!.reason, /its backup ended without removing it: made by the nkvm command \(pid \d+ on .*\) 10 min ago, and no helper of that backup runs/);
    }
    for (const name of [fresh.snapshotName, fresh.claimName!]) assert.equal(verdict(name)?.leftover, false, `${name}: ${verdict(name)?.reason}`);
    assert.deepEqual(found.filter((f) => f.leftover).map((f) => f.kind).sort(), ['claim', 'snapshot']);

    // nkvm cleanup names them by kind; today both are still within their lease.
    const r = await runNkvm(['cleanup', '--dry-run', '--namespace', namespace], { cwd: sb.dir, env: sandboxEnv(sb) });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, new RegExp(`^kept\\s+VolumeSnapshot media/${stale.snapshotName}\\s`, 'm'));
    assert.match(r.stdout, new RegExp(`^kept\\s+temporary claim media/${fresh.claimName}\\s`, 'm'));

    assert.deepEqual(await deleteHelperPods(sb.kubeConfig, found.filter((f) => f.leftover)), []);
    const snapshots = new SnapshotApi(sb.kubeConfig);
    const left = async () => (await snapshots.list(namespace, 'app.kubernetes.io/component=backup-snapshot')).map((s) => s.metadata.name);
    await eventually('the stale snapshot is gone', async () => ((await left()).includes(stale.snapshotName) ? undefined : true), 20_000);
    assert.deepEqual(await left(), [fresh.snapshotName]);
    assert.equal(await fresh.remove(), undefined);
    assert.deepEqual(await left(), []);
  });
});
