import { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { resolveBackupHookSettings } from '../../../src/core/config/backupHookSettings';
import { findBackupHooks } from '../../../src/core/hooks/backupHooks';
import { describeHookRun, hookRunsFromHistory, hookRunsToHistory } from '../../../src/core/hooks/hookRun';
import { runHooks } from '../../../src/core/hooks/runHooks';
import { deletePodsNow } from '../podHelpers';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

const NS = 'media';
const CLAIM = 'archive-2019';

/** A workload that mounts the claim read-write, as an application being quiesced would. */
function workloadPod(name: string, annotations: Record<string, string>, extra: Partial<V1Pod['spec']> = {}): V1Pod {
  return {
    metadata: { name, namespace: NS, annotations },
    spec: {
      containers: [
        { name: 'app', image: 'alpine:3.20', command: ['sleep', 'infinity'], volumeMounts: [{ name: 'data', mountPath: '/data' }] },
        { name: 'metrics', image: 'alpine:3.20', command: ['sleep', 'infinity'] },
      ],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: CLAIM } }],
      ...extra,
    },
  };
}

describe('backup hooks run in the workload’s pod', function () {
  this.timeout(60_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;
  let volume: string;

  before(async () => {
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
    volume = sb.cluster.volumePath(NS, CLAIM);
  });
  after(async () => sb?.stop());
  afterEach(async () => {
    await deletePodsNow(core, NS);
    for (const f of ['frozen', 'thawed', 'second']) rmSync(join(volume, f), { force: true });
  });

  /** Starts the pods, waits until they run, and returns them as the caller would list them. */
  async function running(...pods: V1Pod[]): Promise<V1Pod[]> {
    for (const body of pods) await core.createNamespacedPod({ namespace: NS, body });
    return Promise.all(
      pods.map((p) =>
        eventually(`pod ${p.metadata!.name} to run`, async () => {
          const live = await core.readNamespacedPod({ name: p.metadata!.name!, namespace: NS });
          return live.status?.phase === 'Running' ? live : undefined;
        }, 20_000),
      ),
    );
  }

  it('runs the pre hook in the pod’s first container, where it writes into the volume, and the post hook after it', async () => {
    const pods = await running(
      workloadPod('shop-db', {
        'pre.hook.backup.velero.io/command': '["/bin/sh", "-c", "echo frozen by $(id -u) > /data/frozen; echo quiesced"]',
        'post.hook.backup.velero.io/command': '["/bin/sh", "-c", "echo thawed > /data/thawed"]',
      }),
    );
    const hooks = findBackupHooks(pods, NS, CLAIM);
    const pre = await runHooks(sb.kubeConfig, hooks, 'pre');
    assert.equal(pre.failure, undefined);
    assert.equal(readFileSync(join(volume, 'frozen'), 'utf8'), 'frozen by 0\n');
    assert.equal(existsSync(join(volume, 'thawed')), false, 'the post hook must wait for the post phase');
    const run = pre.runs[0]!;
    assert.deepEqual([run.phase, run.pod, run.container, run.source, run.outcome, run.exitCode, run.stdout], ['pre', 'shop-db', 'app', 'annotation', 'ok', 0, 'quiesced\n']);
    assert.match(describeHookRun(run), /^pre hook in media\/shop-db \(app\): exit 0 in \d+\.\d s$/);

    const post = await runHooks(sb.kubeConfig, hooks, 'post', { afterPre: pre });
    assert.deepEqual(post.runs.map((r) => [r.phase, r.outcome]), [['post', 'ok']]);
    assert.equal(readFileSync(join(volume, 'thawed'), 'utf8'), 'thawed\n');
    assert.deepEqual(hookRunsFromHistory(hookRunsToHistory([...pre.runs, ...post.runs])), [...pre.runs, ...post.runs]);
  });

  it('stops at a failing pre hook with on-error Fail, and gives that pod no post hook; with Continue it records the failure and goes on', async () => {
    const failing = (onError: string) => ({
      'pre.hook.backup.velero.io/command': '["/bin/sh", "-c", "echo cannot lock tables >&2; exit 3"]',
      'pre.hook.backup.velero.io/on-error': onError,
      'post.hook.backup.velero.io/command': '["/bin/sh", "-c", "echo thawed > /data/thawed"]',
    });
    const settings = resolveBackupHookSettings({ [`${NS}/${CLAIM}`]: { pre: { command: ['/bin/sh', '-c', 'echo second > /data/second'] } } }, {});

    const failPods = await running(workloadPod('shop-db', failing('Fail')));
    const stopped = await runHooks(sb.kubeConfig, findBackupHooks(failPods, NS, CLAIM, settings), 'pre');
    assert.deepEqual(stopped.runs.map((r) => [r.outcome, r.exitCode, r.stderr]), [['failed', 3, 'cannot lock tables\n']]);
    assert.equal(stopped.failure?.message, 'the command exited with code 3');
    assert.match(stopped.failure!.nextStep, /fix the command in pre\.hook\.backup\.velero\.io or set its on-error to Continue/);
    assert.equal(existsSync(join(volume, 'second')), false, 'no hook may run after a failure that stops the backup');
    assert.deepEqual(stopped.postHookPods, []);
    await deletePodsNow(core, NS);

    const continuePods = await running(workloadPod('shop-db-2', failing('Continue')));
    const hooks = findBackupHooks(continuePods, NS, CLAIM, settings);
    const went = await runHooks(sb.kubeConfig, hooks, 'pre');
    assert.equal(went.failure, undefined);
    assert.deepEqual(went.runs.map((r) => [r.source, r.outcome]), [['annotation', 'failed'], ['setting', 'ok']]);
    assert.equal(readFileSync(join(volume, 'second'), 'utf8'), 'second\n');
    assert.match(describeHookRun(went.runs[0]!), /^pre hook in media\/shop-db-2 \(app\): exit 3 in \d+\.\d s \(on-error Continue: the backup went on\)$/);
    const post = await runHooks(sb.kubeConfig, hooks, 'post', { afterPre: went });
    assert.deepEqual(post.runs.map((r) => r.outcome), ['ok']);
  });

  it('stops a hook that outlives its timeout and counts it as a failure', async () => {
    const pods = await running(workloadPod('shop-db', { 'pre.hook.backup.velero.io/command': '["/bin/sh", "-c", "echo started; sleep 30"]', 'pre.hook.backup.velero.io/timeout': '1s' }));
    const result = await runHooks(sb.kubeConfig, findBackupHooks(pods, NS, CLAIM), 'pre');
    const run = result.runs[0]!;
    assert.deepEqual([run.outcome, run.exitCode, run.stdout], ['timed-out', null, 'started\n']);
    assert.equal(run.message, 'timed out after 1s; the exec stream was closed, but the command may still be running in the container');
    assert.match(result.failure!.nextStep, /raise its timeout \(pre\.hook\.backup\.velero\.io\)/);
  });

  it('fails a hook naming a container the pod does not have, without running anything', async () => {
    const pods = await running(workloadPod('shop-db', { 'pre.hook.backup.velero.io/command': '["/bin/sh", "-c", "echo frozen > /data/frozen"]', 'pre.hook.backup.velero.io/container': 'postgres' }));
    const result = await runHooks(sb.kubeConfig, findBackupHooks(pods, NS, CLAIM), 'pre');
    assert.deepEqual(result.runs.map((r) => [r.outcome, r.exitCode]), [['failed', null]]);
    assert.equal(result.failure?.message, 'pod media/shop-db has no container "postgres" (it has app, metrics); fix the hook\'s container or leave it out to use the first container');
    assert.equal(existsSync(join(volume, 'frozen')), false);
  });

  it('fails a hook whose pod is not running, saying so', async () => {
    const body = workloadPod('shop-db', { 'pre.hook.backup.velero.io/command': '/bin/true' }, { nodeSelector: { 'disk': 'none-has-this' } });
    await core.createNamespacedPod({ namespace: NS, body });
    const pending = await core.readNamespacedPod({ name: 'shop-db', namespace: NS });
    const result = await runHooks(sb.kubeConfig, findBackupHooks([pending], NS, CLAIM), 'pre');
    assert.equal(result.runs[0]!.outcome, 'failed');
    assert.equal(result.failure?.message, 'pod media/shop-db is Pending, not Running, so its hook cannot run; wait until it runs, then back up again');
  });

  it('keeps only the last 4 KiB of a chatty hook’s output, and says how much was cut', async () => {
    // 20,000 numbered lines on each stream: the tail must be the real end, not the start.
    const script = 'i=0; while [ $i -lt 20000 ]; do echo "line $i"; echo "err $i" >&2; i=$((i+1)); done';
    const pods = await running(workloadPod('shop-db', { 'pre.hook.backup.velero.io/command': JSON.stringify(['/bin/sh', '-c', script]) }));
    const run = (await runHooks(sb.kubeConfig, findBackupHooks(pods, NS, CLAIM), 'pre')).runs[0]!;
    assert.equal(run.outcome, 'ok');
    let total = 0;
    for (let i = 0; i < 20000; i++) total += `line ${i}\n`.length;
    assert.equal(run.stdout.length, 4096);
    assert.equal(run.stdoutCutBytes, total - 4096);
    assert.ok(run.stdout.endsWith('line 19998\nline 19999\n'));
    assert.ok(run.stderr.endsWith('err 19999\n') && run.stderr.length === 4096 && run.stderrCutBytes > 0);
  });

  it('stops a running pre hook on cancel, and still runs the post hooks of that pod afterwards', async () => {
    const pods = await running(
      workloadPod('shop-db', {
        'pre.hook.backup.velero.io/command': '["/bin/sh", "-c", "echo frozen > /data/frozen; sleep 30"]',
        'pre.hook.backup.velero.io/timeout': '1m',
        'post.hook.backup.velero.io/command': '["/bin/sh", "-c", "echo thawed > /data/thawed"]',
      }),
    );
    const hooks = findBackupHooks(pods, NS, CLAIM);
    const cancel = new AbortController();
    const pre = runHooks(sb.kubeConfig, hooks, 'pre', { signal: cancel.signal });
    await eventually('the pre hook to start', () => existsSync(join(volume, 'frozen')), 20_000);
    cancel.abort();
    const stopped = await pre;
    assert.deepEqual(stopped.runs.map((r) => r.outcome), ['error']);
    assert.equal(stopped.failure?.message, 'the backup was cancelled during the pre hooks');
    assert.deepEqual(stopped.postHookPods, ['shop-db']);
    const post = await runHooks(sb.kubeConfig, hooks, 'post', { afterPre: stopped });
    assert.deepEqual(post.runs.map((r) => r.outcome), ['ok']);
    assert.equal(readFileSync(join(volume, 'thawed'), 'utf8'), 'thawed\n');
  });
});
