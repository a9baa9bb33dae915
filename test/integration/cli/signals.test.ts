import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { types } from '../../sandbox/cluster/types';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';
import { nkvmCommand, sandboxEnv } from './runNkvm';

describe('nkvm stopped by a signal mid-backup', function () {
  this.timeout(90_000);
  let sb: SandboxFixture;
  let root: string;

  before(async () => {
    sb = await startSandbox();
    root = sb.cluster.volumePath('media', 'archive-2019');
    // Incompressible, so that gzip in the helper keeps the copy going for a while.
    execFileSync('sh', ['-c', `head -c 150000000 /dev/urandom > '${root}/big.bin'`]);
  });
  after(async () => sb?.stop());

  const backupDir = () => sandboxEnv(sb).NKVM_BACKUP_DIR;
  const filesUnder = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name) : []);
  const liveHelpers = () => sb.cluster.store.list(types.pods).filter((p) => p.metadata.labels?.['app.kubernetes.io/component'] === 'backup-helper' && !p.metadata.deletionTimestamp);

  /** Starts `nkvm backup media/archive-2019` and resolves once bytes are landing in its partial archive. */
  async function backupUnderWay(): Promise<{ child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; helpersAtExit: string[]; stderr: string }> }> {
    const child = spawn(process.execPath, [...nkvmCommand(), 'backup', 'media/archive-2019'], { cwd: sb.dir, env: { ...process.env, ...sandboxEnv(sb) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdout!.resume();
    // The helpers still running at the very moment the process ends.
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; helpersAtExit: string[]; stderr: string }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal, helpersAtExit: liveHelpers().map((p) => p.metadata.name!), stderr })),
    );
    await eventually(
      'the partial archive to grow',
      () => filesUnder(backupDir()).some((f) => f.endsWith('.partial')) && partialSize() > 100_000,
      30_000,
    );
    return { child, exited };
  }

  const partialSize = (): number => {
    const dir = backupDir();
    const found = existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('.partial')) : undefined;
    return found ? statSync(join(dir, found)).size : 0;
  };

  it('SIGTERM cancels the backup, deletes its helper pod before exiting with 143, and leaves no archive or partial file', async () => {
    const { child, exited } = await backupUnderWay();
    const sentAt = Date.now();
    child.kill('SIGTERM');
    const exit = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('nkvm did not exit within 20 s of SIGTERM')), 20_000))]);
    assert.equal(exit.code, 143, `exit ${exit.code} (signal ${exit.signal}) after ${Date.now() - sentAt} ms; stderr: ${exit.stderr}`);
    assert.deepEqual(exit.helpersAtExit, [], 'no helper pod still running when nkvm exits');
    assert.deepEqual(filesUnder(backupDir()), [], 'neither an archive under its final name nor a partial file');
  });

  it('a second SIGINT exits at once with 130', async () => {
    const { child, exited } = await backupUnderWay();
    child.kill('SIGINT');
    child.kill('SIGINT');
    const exit = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('nkvm did not exit within 10 s of two SIGINTs')), 10_000))]);
    assert.equal(exit.code, 130, `exit ${exit.code} (signal ${exit.signal}); stderr: ${exit.stderr}`);
    // What the first signal did not clean up is left to the helper's own lease; remove it for the next test.
    const core = sb.kubeConfig.makeApiClient(CoreV1Api);
    for (const pod of liveHelpers()) await core.deleteNamespacedPod({ name: pod.metadata.name!, namespace: pod.metadata.namespace!, gracePeriodSeconds: 0 });
  });
});
