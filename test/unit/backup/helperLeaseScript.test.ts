import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { leaseCommand } from '../../../src/core/backup/helperLeaseScript';

// The helper's main loop, run for real by the shells of both userlands the helper image may have.
const shells: { name: string; argv0: string; prefix: string[] }[] = [{ name: 'the host sh', argv0: 'sh', prefix: [] }];
if (spawnSync('busybox', ['true']).status === 0) shells.push({ name: 'busybox sh', argv0: 'busybox', prefix: ['sh'] });

interface Running {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
  done: boolean;
}

describe('the helper lease loop (its main process)', function () {
  this.timeout(60_000);
  let dir: string;
  let running: Running[] = [];
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'nkvm-lease-'))));
  afterEach(() => {
    for (const r of running) if (!r.done) r.child.kill('SIGKILL');
    running = [];
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (shell: (typeof shells)[number], leaseSeconds: number, file: string): Running => {
    const [sh, ...args] = leaseCommand(leaseSeconds, file);
    assert.equal(sh, 'sh');
    const child = spawn(shell.argv0, [...shell.prefix, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const r: Running = { child, done: false, exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, output }))) };
    void r.exited.then(() => (r.done = true));
    running.push(r);
    return r;
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const within = <T>(ms: number, what: string, p: Promise<T>): Promise<T> =>
    Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`${what} took longer than ${ms} ms`)))]);

  for (const shell of shells) {
    describe(shell.name, () => {
      it('ends with exit 0 (pod Succeeded) once nobody renews the lease', async () => {
        const started = Date.now();
        const r = start(shell, 2, join(dir, 'lease'));
        const { code, signal, output } = await within(15_000, 'ending after a 2 s lease', r.exited);
        assert.deepEqual({ code, signal }, { code: 0, signal: null }, output);
        assert.ok(Date.now() - started >= 2000, `ended after ${Date.now() - started} ms, before its 2 s lease ran out`);
        assert.match(output, /lease was not renewed for \d+ s \(lease 2 s\); stopping/);
      });

      it('keeps running while the lease file is touched, and ends after the touching stops', async () => {
        const file = join(dir, 'lease');
        const r = start(shell, 3, file);
        // Renew every half second for three lease lengths, as the owner's renewals over exec do.
        for (let i = 0; i < 18; i++) {
          await sleep(500);
          const now = new Date();
          utimesSync(file, now, now);
          assert.equal(r.done, false, `the loop ended although its lease was renewed (after ${(i + 1) * 0.5} s)`);
        }
        const { code } = await within(15_000, 'ending after the renewals stopped', r.exited);
        assert.equal(code, 0);
      });

      it('ends at once on TERM, without waiting for its current sleep', async () => {
        // A long lease checks every 10 s: a loop that slept in the foreground would take that long.
        const r = start(shell, 600, join(dir, 'lease'));
        await sleep(700);
        assert.equal(r.done, false);
        r.child.kill('SIGTERM');
        const { code, signal } = await within(3_000, 'stopping on TERM', r.exited);
        assert.deepEqual({ code, signal }, { code: 0, signal: null });
      });

      it('fails at once, saying why, when it cannot write its lease file', async () => {
        const r = start(shell, 60, join(dir, 'missing-folder', 'lease'));
        const { code, output } = await within(5_000, 'failing', r.exited);
        assert.equal(code, 1);
        assert.match(output, /cannot write the lease file/);
      });
    });
  }

  it('runs under BusyBox too (installed here)', function () {
    if (!process.env.CI && shells.length < 2) this.skip();
    assert.equal(shells.length, 2, 'busybox is not installed');
  });
});
