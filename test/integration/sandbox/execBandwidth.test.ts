import { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execCollect, readerPod } from '../podHelpers';
import { eventually, requireKubectl, SandboxFixture, startSandbox } from '../sandboxFixture';

const NAMESPACE = 'media';
const MB = 1_000_000;

function plainPod(name: string): V1Pod {
  const container = { name: 'main', image: 'alpine:3.20', command: ['sleep', 'infinity'] };
  return { metadata: { name, namespace: NAMESPACE }, spec: { containers: [container] } };
}

async function timed<T>(run: () => Promise<T>): Promise<T & { seconds: number }> {
  const started = performance.now();
  const value = await run();
  return { ...value, seconds: (performance.now() - started) / 1000 };
}

// Only lower bounds are tight: a limiter can never be faster than its rate, while a busy machine can always be slower.
describe('exec streams held to a bandwidth, as over a slow link to the cluster', function () {
  this.timeout(60_000);
  let sb: SandboxFixture;
  let fourMb: Buffer;
  let twoMb: Buffer;

  before(async () => {
    sb = await startSandbox();
    fourMb = randomBytes(4 * MB);
    twoMb = randomBytes(2 * MB);
    const volume = sb.cluster.volumePath(NAMESPACE, 'archive-2019');
    writeFileSync(join(volume, 'four.bin'), fourMb);
    writeFileSync(join(volume, 'two.bin'), twoMb);
    const core = sb.kubeConfig.makeApiClient(CoreV1Api);
    for (const body of [readerPod('reader', NAMESPACE, 'archive-2019'), plainPod('plain-a'), plainPod('plain-b')]) {
      await core.createNamespacedPod({ namespace: NAMESPACE, body });
      const name = body.metadata!.name!;
      const phase = async () => (await core.readNamespacedPod({ name, namespace: NAMESPACE })).status?.phase;
      await eventually(`${name} Running`, async () => (await phase()) === 'Running');
    }
  });
  afterEach(() => {
    sb.cluster.execBandwidth.set({});
    sb.cluster.faults.clear();
  });
  after(async () => sb?.stop());

  const exec = (pod: string, command: string[], stdin?: Buffer) => timed(() => execCollect(sb, NAMESPACE, pod, command, stdin));
  const zeros = (pod: string, bytes: number) => exec(pod, ['head', '-c', String(bytes), '/dev/zero']);

  it('a 4 MB cat at 1 MB/s per stream takes about 4 s, and every byte arrives in order', async () => {
    sb.cluster.execBandwidth.set({ perStreamBytesPerSecond: MB });
    const run = await exec('reader', ['cat', '/data/four.bin']);
    assert.equal(run.status.status, 'Success', run.stderr);
    assert.ok(run.stdout.equals(fourMb), `got ${run.stdout.length} bytes, not the file's ${fourMb.length}`);
    assert.ok(run.seconds >= 3, `took ${run.seconds.toFixed(2)} s`);
    assert.ok(run.seconds < 20, `took ${run.seconds.toFixed(2)} s`);
  });

  it('two streams at once each get the per-stream rate, even from the same pod', async () => {
    sb.cluster.execBandwidth.set({ perStreamBytesPerSecond: MB });
    const single = await zeros('plain-a', 4 * MB);
    const pair = await timed(async () => ({ runs: await Promise.all([zeros('plain-a', 4 * MB), zeros('plain-a', 4 * MB)]) }));
    for (const run of [single, ...pair.runs]) {
      assert.equal(run.stdout.length, 4 * MB);
      assert.ok(run.seconds >= 3, `a stream took ${run.seconds.toFixed(2)} s`);
    }
    // Sharing one limit would take twice as long as one stream.
    assert.ok(pair.seconds < 1.6 * single.seconds, `pair ${pair.seconds.toFixed(2)} s, one stream ${single.seconds.toFixed(2)} s`);
  });

  it('a total limit holds all exec streams together', async () => {
    sb.cluster.execBandwidth.set({ perStreamBytesPerSecond: 4 * MB, totalBytesPerSecond: MB });
    const pair = await timed(async () => ({ runs: await Promise.all([zeros('plain-a', 2 * MB), zeros('plain-b', 2 * MB)]) }));
    for (const run of pair.runs) assert.equal(run.stdout.length, 2 * MB);
    assert.ok(pair.seconds >= 3, `4 MB in all at 1 MB/s took ${pair.seconds.toFixed(2)} s`);
  });

  it('the execBandwidth fault slows the streams of its target pod only', async () => {
    sb.cluster.faults.inject({ kind: 'execBandwidth', target: { namespace: NAMESPACE, pod: 'plain-a' }, bytesPerSecond: MB / 2 });
    const [slow, fast] = await Promise.all([zeros('plain-a', 2 * MB), zeros('plain-b', 2 * MB)]);
    assert.equal(slow.stdout.length, 2 * MB);
    assert.equal(fast.stdout.length, 2 * MB);
    assert.ok(slow.seconds >= 3, `the target took ${slow.seconds.toFixed(2)} s`);
    assert.ok(fast.seconds < slow.seconds / 2, `the other pod took ${fast.seconds.toFixed(2)} s, the target ${slow.seconds.toFixed(2)} s`);
  });

  it('stdin from the client is held to the bandwidth too, and arrives whole', async () => {
    sb.cluster.execBandwidth.set({ perStreamBytesPerSecond: MB });
    const upload = randomBytes(3 * MB);
    const run = await exec('plain-a', ['sh', '-c', 'sha256sum | cut -c1-64'], upload);
    assert.equal(run.status.status, 'Success', run.stderr);
    assert.equal(run.stdout.toString().trim(), sha256(upload));
    assert.ok(run.seconds >= 2, `3 MB up at 1 MB/s took ${run.seconds.toFixed(2)} s`);
    assert.ok(run.seconds < 20, `took ${run.seconds.toFixed(2)} s`);
  });

  it('the real kubectl exec streams output and stdin whole under the limit', async function () {
    requireKubectl(this);
    sb.cluster.execBandwidth.set({ perStreamBytesPerSecond: MB });
    const down = await timed(() => sb.kubectl(['-n', NAMESPACE, 'exec', 'reader', '--', 'cat', '/data/two.bin']));
    assert.equal(down.code, 0, down.stderr);
    assert.ok(down.stdout.equals(twoMb), `got ${down.stdout.length} bytes, not the file's ${twoMb.length}`);
    assert.ok(down.seconds >= 1.5, `2 MB down at 1 MB/s took ${down.seconds.toFixed(2)} s`);

    const upload = ['-n', NAMESPACE, 'exec', '-i', 'plain-a', '--', 'sh', '-c', 'sha256sum | cut -c1-64'];
    const up = await timed(() => sb.kubectl(upload, { input: twoMb }));
    assert.equal(up.code, 0, up.stderr);
    assert.equal(up.stdout.toString().trim(), sha256(twoMb));
    assert.ok(up.seconds >= 1.5, `2 MB up at 1 MB/s took ${up.seconds.toFixed(2)} s`);
  });
});

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
