import { CoreV1Api, Exec, KubeConfig, V1Status } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';

const root = resolve(__dirname, '../../..');

function startCli(args: string[]): { child: ChildProcess; ready: Promise<string>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/sandbox/cli.ts'), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<string>((resolveReady, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      if (/ready/.test(out)) resolveReady(out);
    });
    child.stderr!.on('data', (d) => (out += d));
    child.on('exit', () => reject(new Error(`exited before ready: ${out}`)));
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, ready, exited };
}

describe('npm run sandbox', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'nkvm-cli-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a kubeconfig with a "sandbox" context, prints ready, serves the demo and exits cleanly on SIGTERM', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    const cli = startCli(['--kubeconfig', kubeconfig]);
    const line = await cli.ready;
    assert.match(line, /Sandbox cluster ready at https:\/\/127\.0\.0\.1:\d+/);
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    assert.equal(kc.getCurrentContext(), 'sandbox');
    const claims = await kc.makeApiClient(CoreV1Api).listPersistentVolumeClaimForAllNamespaces();
    assert.ok(claims.items.length >= 5);
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
  });

  it('keeps objects and volume files in --data across a restart', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    const data = join(dir, 'data');
    const first = startCli(['--kubeconfig', kubeconfig, '--data', data]);
    await first.ready;
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'kept' } } });
    const pvName = (await core.readNamespacedPersistentVolumeClaim({ name: 'reports', namespace: 'analytics' })).spec!.volumeName!;
    writeFileSync(join(data, 'volumes', pvName, 'marker.txt'), 'still here');
    first.child.kill('SIGINT');
    assert.equal(await first.exited, 0);

    const second = startCli(['--kubeconfig', kubeconfig, '--data', data]);
    await second.ready;
    const kc2 = new KubeConfig();
    kc2.loadFromFile(kubeconfig);
    const core2 = kc2.makeApiClient(CoreV1Api);
    assert.ok((await core2.listNamespace()).items.some((n) => n.metadata?.name === 'kept'));
    const pv2 = (await core2.readNamespacedPersistentVolumeClaim({ name: 'reports', namespace: 'analytics' })).spec!.volumeName!;
    assert.equal(readFileSync(join(data, 'volumes', pv2, 'marker.txt'), 'utf8'), 'still here');
    second.child.kill('SIGTERM');
    assert.equal(await second.exited, 0);
  });

  it('holds each exec stream to --exec-bandwidth bytes per second', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    const cli = startCli(['--kubeconfig', kubeconfig, '--exec-bandwidth', '500000']);
    try {
      await cli.ready;
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfig);
      const core = kc.makeApiClient(CoreV1Api);
      const container = { name: 'main', image: 'alpine:3.20', command: ['sleep', 'infinity'] };
      const body = { metadata: { name: 'slow-link' }, spec: { containers: [container] } };
      await core.createNamespacedPod({ namespace: 'default', body });
      while ((await core.readNamespacedPod({ name: 'slow-link', namespace: 'default' })).status?.phase !== 'Running') {
        await new Promise((r) => setTimeout(r, 50));
      }
      let received = 0;
      const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => ((received += chunk.length), done()) });
      const started = performance.now();
      const status = await new Promise<V1Status>((resolveStatus, reject) => {
        const command = ['head', '-c', '1000000', '/dev/zero'];
        new Exec(kc).exec('default', 'slow-link', 'main', command, sink, null, null, false, resolveStatus).catch(reject);
      });
      const seconds = (performance.now() - started) / 1000;
      assert.equal(status.status, 'Success');
      // 1 MB at 500 kB/s, less the first burst; only a lower bound, as a busy machine can always be slower.
      assert.ok(seconds >= 1.5, `1 MB took ${seconds.toFixed(2)} s`);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(received, 1_000_000);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  });

  it('refuses a bandwidth that is not a whole number of bytes per second', async () => {
    const cli = startCli(['--kubeconfig', join(dir, 'k'), '--exec-bandwidth-total', '1MB']);
    await assert.rejects(cli.ready, /--exec-bandwidth-total must be a whole number of bytes per second above 0 \(e\.g\. 1000000\), got "1MB"/);
    assert.equal(await cli.exited, 1);
    assert.equal(existsSync(join(dir, 'k')), false);
  });

  it('refuses a bad port with a clear message', async () => {
    const cli = startCli(['--kubeconfig', join(dir, 'k'), '--port', 'abc']);
    await assert.rejects(cli.ready, /--port must be a whole number from 0 to 65535, got "abc"/);
    assert.equal(await cli.exited, 1);
    assert.equal(existsSync(join(dir, 'k')), false);
  });
});
