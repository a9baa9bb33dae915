import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findHostBusybox } from '../../sandbox/exec/busyboxUserland';
import { spawnInContainer, type ContainerProcessSpec } from '../../sandbox/exec/containerRunner';
import { collectExec, eventually, openExec, startExecServer } from './execHarness';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(spec: ContainerProcessSpec): Promise<Ran> {
  const child = spawnInContainer(spec);
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

describe('spawnInContainer (a command in a private root with the pod volumes)', function () {
  this.timeout(10_000);
  let work: string;
  let stateDir: string;
  let volume: string;
  const spec = (command: string[], extra: Partial<ContainerProcessSpec> = {}): ContainerProcessSpec => ({
    command,
    image: 'debian:12',
    mounts: [{ hostPath: volume, mountPath: '/data', readOnly: false }],
    stateDir,
    ...extra,
  });

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'sandbox-exec-'));
    stateDir = join(work, 'state');
    volume = join(work, 'volume');
    mkdirSync(join(volume, 'app/logs/2024'), { recursive: true, mode: 0o755 });
    mkdirSync(join(volume, 'empty'));
    writeFileSync(join(volume, 'app/config.yaml'), 'replicas: 3\n');
    writeFileSync(join(volume, 'app/logs/2024/jan.log'), 'x'.repeat(100_000));
    writeFileSync(join(volume, 'name with spaces.txt'), 'spaced\n');
    symlinkSync('app/config.yaml', join(volume, 'config-link'));
    chmodSync(volume, 0o755);
  });

  afterEach(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it('shows the volume at its mountPath: tar through exec lists what tar lists on the host', async () => {
    const server = await startExecServer(({ command }) => ({ child: spawnInContainer(spec(command)) }));
    const t = await collectExec(openExec(server.url(['sh', '-c', 'cd /data && tar cf - .'])));
    await server.close();
    assert.equal(t.status?.status, 'Success', t.stderr.toString());
    const list = (archive: Buffer) => execFileSync('tar', ['-tf', '-'], { input: archive }).toString().split('\n').sort();
    const onHost = execFileSync('tar', ['cf', '-', '.'], { cwd: volume });
    assert.deepEqual(list(t.stdout), list(onHost));
    assert.ok(list(t.stdout).includes('./app/logs/2024/jan.log'));
  });

  it('refuses writes to a readOnly mount and allows them to a writable one', async () => {
    const ro = await run(spec(['touch', '/data/x'], { mounts: [{ hostPath: volume, mountPath: '/data', readOnly: true }] }));
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /Read-only file system/);
    assert.equal(existsSync(join(volume, 'x')), false);

    const rw = await run(spec(['touch', '/data/x']));
    assert.equal(rw.code, 0, rw.stderr);
    assert.equal(existsSync(join(volume, 'x')), true);
  });

  it('runs as runAsUser, so file permissions apply', async () => {
    writeFileSync(join(volume, 'secret'), 'root only\n', { mode: 0o600 });
    writeFileSync(join(volume, 'public'), 'everyone\n', { mode: 0o644 });
    const r = await run(spec(['sh', '-c', 'id -u; id -g; cat /data/public; cat /data/secret'], { runAsUser: 65534, runAsGroup: 65534 }));
    assert.equal(r.stdout, '65534\n65534\neveryone\n');
    assert.match(r.stderr, /secret: Permission denied/);
    assert.equal(r.code, 1);
  });

  it('reports the command exit code, and 128+N for a command killed by signal N', async () => {
    assert.equal((await run(spec(['sh', '-c', 'exit 7']))).code, 7);
    assert.equal((await run(spec(['sh', '-c', 'kill -9 $$']))).code, 137);
    assert.equal((await run(spec(['sh', '-c', 'no-such-command']))).code, 127, 'a shell that cannot find a command exits 127');
  });

  it('refuses to start a command the image does not have, as runc does, before anything runs', () => {
    assert.throws(() => spawnInContainer(spec(['no-such-command'])), /exec: "no-such-command": executable file not found in \$PATH/);
  });

  it('gives the command only the container environment, in workingDir', async () => {
    const r = await run(spec(['sh', '-c', 'pwd; env | sort'], { env: { GREETING: "it's $(here)" }, workingDir: '/data/app' }));
    assert.equal(r.stdout, [
      '/data/app',
      "GREETING=it's $(here)",
      'HOME=/root',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      // sh itself exports PWD.
      'PWD=/data/app',
      '',
    ].join('\n'));
    const nobody = await run(spec(['sh', '-c', 'echo $HOME'], { runAsUser: 65534 }));
    assert.equal(nobody.stdout, '/\n');
  });

  it('leaves nothing on the host: no private root, no mount points, no files outside volumes', async () => {
    const probe = `/sandbox-probe-${process.pid}-${Date.now()}`;
    const hostData = existsSync('/data') ? readdirSync('/data') : undefined;
    const r = await run(spec(['sh', '-c', `ls -d ${probe}/data /data && touch /tmp/leak ${probe}/leak; echo ok > /etc/sandbox-leak`], {
      mounts: [
        { hostPath: volume, mountPath: '/data', readOnly: false },
        { hostPath: volume, mountPath: `${probe}/data`, readOnly: false },
      ],
    }));
    assert.equal(r.stdout, `/data\n${probe}/data\n`);
    assert.match(r.stderr, /Read-only file system/, 'the shared /etc is read-only');
    assert.equal(existsSync(probe), false);
    assert.deepEqual(existsSync('/data') ? readdirSync('/data') : undefined, hostData);
    assert.equal(existsSync('/tmp/leak'), false);
    assert.equal(existsSync('/etc/sandbox-leak'), false);
    assert.deepEqual(readdirSync(stateDir), []);
    assert.equal(spawnSync('grep', ['-q', stateDir, '/proc/self/mountinfo']).status, 1, 'a mount escaped into the host namespace');
  });

  it('keeps user paths out of the shell code', async () => {
    const odd = join(work, `vol 'q' $(id>&2) "d" \\`);
    mkdirSync(odd);
    writeFileSync(join(odd, 'f'), 'odd\n');
    const r = await run(spec(['cat', `/mnt/it's $(id>&2)/f`], { mounts: [{ hostPath: odd, mountPath: `/mnt/it's $(id>&2)`, readOnly: true }] }));
    assert.equal(r.stdout, 'odd\n', r.stderr);
    assert.doesNotMatch(r.stderr, /uid=/);
  });

  it('mounts nested volumes and single files, and rejects paths that would reach the host', async () => {
    const cache = join(work, 'cache');
    mkdirSync(cache);
    writeFileSync(join(cache, 'c'), 'cached\n');
    const file = join(work, 'settings.conf');
    writeFileSync(file, 'k=v\n');
    const r = await run(spec(['sh', '-c', 'cat /data/app/config.yaml /data/cache/c /config/settings.conf'], {
      mounts: [
        { hostPath: cache, mountPath: '/data/cache', readOnly: true },
        { hostPath: volume, mountPath: '/data', readOnly: true },
        { hostPath: file, mountPath: '/config/settings.conf', readOnly: true },
      ],
    }));
    assert.equal(r.stdout, 'replicas: 3\ncached\nk=v\n', r.stderr);

    const bad = (mountPath: string, hostPath = volume) => () => spawnInContainer(spec(['true'], { mounts: [{ hostPath, mountPath, readOnly: true }] }));
    assert.throws(bad('/usr/local/data'), /under \/usr/);
    assert.throws(bad('/proc'), /under \/proc/);
    assert.throws(bad('data'), /absolute/);
    assert.throws(bad('/data/../etc'), /normalized/);
    assert.throws(bad('/data', join(work, 'missing')), /does not exist/);
    assert.throws(
      () => spawnInContainer(spec(['true'], { mounts: [{ hostPath: volume, mountPath: '/data', readOnly: true }, { hostPath: cache, mountPath: '/data/config-link/x', readOnly: true }] })),
      /is a symlink/,
    );
  });

  it('stops the whole process tree when the child is killed', async () => {
    const marker = `30.${process.pid}${Date.now() % 100000}`;
    const child = spawnInContainer(spec(['sh', '-c', `sleep ${marker} & sleep ${marker}; echo unreachable`]));
    const running = () => spawnSync('pgrep', ['-f', `sleep ${marker}`]).status === 0;
    await eventually(running, 3000, 'the sleeps to start');
    const exited = new Promise((resolve) => child.on('close', resolve));
    child.kill('SIGKILL');
    await exited;
    await eventually(() => !running(), 2000, 'every sleep to be gone');
    assert.deepEqual(readdirSync(stateDir), []);
  });

  it('runs concurrent execs side by side', async () => {
    const results = await Promise.all([1, 2, 3].map((n) => run(spec(['sh', '-c', `echo ${n} > /tmp/n; sleep 0.2; cat /tmp/n`]))));
    assert.deepEqual(results.map((r) => r.stdout), ['1\n', '2\n', '3\n']);
  });

  const busybox = findHostBusybox();
  it(busybox ? 'gives alpine images BusyBox tools, where GNU-only flags fail' : 'uses the host tools for alpine images when BusyBox is not installed', async () => {
    const gnuOnly = ['sh', '-c', 'cd /data && tar --sort=name -cf /dev/null .'];
    const alpine = await run(spec(gnuOnly, { image: 'alpine:3.20' }));
    const debian = await run(spec(gnuOnly));
    assert.equal(debian.code, 0, debian.stderr);
    if (busybox) {
      assert.notEqual(alpine.code, 0);
      assert.match(alpine.stderr, /unrecognized option|invalid option/);
      const listed = await run(spec(['sh', '-c', 'command -v tar; tar cf - -C /data . | tar tf - | sort'], { image: 'docker.io/library/alpine@sha256:0000', runAsUser: 65534 }));
      assert.match(listed.stdout, /^\/\.sandbox-busybox\/tar\n/);
      assert.match(listed.stdout, /\.\/app\/config\.yaml/);
    } else {
      assert.equal(alpine.code, 0, alpine.stderr);
    }
  });
});
