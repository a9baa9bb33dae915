import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { PodChanges } from '../../../src/core/kube/podChanges';
import { readerPod } from '../podHelpers';
import { startSandbox, type SandboxFixture } from '../sandboxFixture';

/** How long `sleep(10 s)` took, in ms. */
async function timedSleep(changes: PodChanges, ms = 10_000): Promise<number> {
  const t0 = performance.now();
  await changes.sleep(ms);
  return performance.now() - t0;
}

describe('a wait for a pod wakes up the moment the pod changes', function () {
  this.timeout(60_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;
  let n = 0;
  before(async () => {
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
  });
  after(async () => sb?.stop());

  const create = async (): Promise<V1Pod> => core.createNamespacedPod({ namespace: 'media', body: readerPod(`watched-${++n}`, 'media', 'archive-2019') });

  it('sees a new pod start at once, and its deletion, rather than at the next poll', async () => {
    const pod = await create();
    const name = pod.metadata!.name!;
    const changes = PodChanges.watch(sb.kubeConfig, 'media', name, pod.metadata!.resourceVersion);
    try {
      // Scheduled, then running: each change wakes the sleeper long before its 10 s.
      let running = false;
      for (let i = 0; i < 5 && !running; i++) {
        assert.ok((await timedSleep(changes)) < 5000, 'woken by a change');
        running = (await core.readNamespacedPod({ name, namespace: 'media' })).status?.phase === 'Running';
      }
      assert.ok(running, 'the pod runs');
    } finally {
      changes.stop();
    }
    // `sleep` ignores SIGTERM as PID 1: the pod goes when its grace period of 2 s ends.
    const deleted = await core.deleteNamespacedPod({ name, namespace: 'media', gracePeriodSeconds: 2 });
    const gone = PodChanges.watch(sb.kubeConfig, 'media', name, deleted.metadata!.resourceVersion);
    try {
      let exists = true;
      for (let i = 0; i < 5 && exists; i++) {
        assert.ok((await timedSleep(gone)) < 5000, 'woken by the deletion');
        exists = await core.readNamespacedPod({ name, namespace: 'media' }).then(() => true, () => false);
      }
      assert.equal(exists, false);
    } finally {
      gone.stop();
    }
  });

  it('falls back to the plain timeout when the watch is refused, and stops cleanly', async () => {
    const removeFault = sb.cluster.faults.inject({ kind: 'forbid', verb: 'watch', resource: 'pods', namespace: 'media' });
    try {
      const pod = await create();
      const changes = PodChanges.watch(sb.kubeConfig, 'media', pod.metadata!.name!, pod.metadata!.resourceVersion);
      const slept = await timedSleep(changes, 1500);
      changes.stop();
      assert.ok(slept >= 1400, `slept the full time without a watch: ${slept} ms`);
    } finally {
      removeFault();
    }
  });

  it('a cancelled wait rejects with the reason at once', async () => {
    // A pod that does not exist never changes: only the abort can end this sleep.
    const changes = PodChanges.watch(sb.kubeConfig, 'media', 'never-created');
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('cancelled by the user')), 100);
    const t0 = performance.now();
    await assert.rejects(changes.sleep(10_000, controller.signal), /cancelled by the user/);
    assert.ok(performance.now() - t0 < 5000);
    changes.stop();
  });
});
