import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findAlpineBusybox } from '../../sandbox/exec/busyboxUserland';
import { spawnInContainer } from '../../sandbox/exec/containerRunner';

function run(command: string, image: string, volume: string, stateDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnInContainer({ command: ['sh', '-c', command], image, mounts: [{ hostPath: volume, mountPath: '/data', readOnly: false }], stateDir });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end();
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe("alpine containers get Alpine's BusyBox archival options", function () {
  this.timeout(20_000);
  let work: string;
  let volume: string;

  before(function () {
    if (findAlpineBusybox()) return;
    if (process.env.CI) throw new Error('the Alpine-like BusyBox is not built; .ci/run must run test/sandbox/busybox/buildAlpineBusybox.sh');
    this.skip();
  });
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'sandbox-busybox-'));
    volume = join(work, 'volume');
    mkdirSync(join(volume, 'keep'), { recursive: true });
    mkdirSync(join(volume, 'cache'));
    writeFileSync(join(volume, 'keep/a.txt'), 'a\n');
    writeFileSync(join(volume, 'cache/big.bin'), 'b\n');
    writeFileSync(join(volume, 'skip.tmp'), 't\n');
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it('takes --exclude and an -X file of patterns in tar', async () => {
    const script = "cd /data && printf '*.tmp\\n' > /tmp/ex && tar -cf - -X /tmp/ex --exclude ./cache . | tar -tf - | sort";
    const r = await run(script, 'alpine:3.20', volume, join(work, 'state'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['./', './keep/', './keep/a.txt']);
  });

  it('takes a -T file of names in tar', async () => {
    const r = await run("cd /data && printf 'keep/a.txt\\nskip.tmp\\n' > /tmp/names && tar -cf - -T /tmp/names | tar -tf -", 'alpine:3.20', volume, join(work, 'state'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['keep/a.txt', 'skip.tmp']);
  });

  it('takes compression levels -1 to -9 in gzip', async () => {
    const r = await run('head -c 100000 /dev/zero | gzip -1 | gzip -d | wc -c && echo x | gzip -9 | gzip -dc', 'alpine:3.20', volume, join(work, 'state'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split(/\s+/), ['100000', 'x']);
  });
});
