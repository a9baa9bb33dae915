import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { type SandboxFixture, startSandbox } from '../sandboxFixture';
import { nkvmCommand, runNkvm, sandboxEnv } from './runNkvm';
import { eventually } from '../sandboxFixture';

const root = resolve(__dirname, '../../..');

interface HistoryRow {
  id: number;
  operation: string;
  pvcName: string;
  status: string;
  message: string | null;
  backupPath: string | null;
}

interface Leftover {
  readonly child: ChildProcess;
  /** The first line the process printed once it was mid-work. */
  readonly ready: Promise<string>;
  readonly exited: Promise<unknown>;
}

/** A process of the engine stopped mid-work: writing an archive, or with its history row running. */
function startLeftover(script: string, args: string[]): Leftover {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, script), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise((done) => child.once('exit', done));
  const ready = new Promise<string>((done, fail) => {
    child.stdout!.once('data', (chunk: Buffer) => done(chunk.toString().trim()));
    void exited.then(() => fail(new Error(`${script} ended early: ${stderr}`)));
  });
  return { child, ready, exited };
}

describe('nkvm after a run that was killed', function () {
  this.timeout(120_000);
  let sb: SandboxFixture;
  const leftovers: Leftover[] = [];
  before(async () => (sb = await startSandbox()));
  after(async () => {
    for (const leftover of leftovers.splice(0)) {
      leftover.child.kill('SIGKILL');
      await leftover.exited;
    }
    await sb?.stop();
  });

  it('`backup` removes the partial archive of the killed run, keeps a running one, and `history` says where it was interrupted', async () => {
    const env = sandboxEnv(sb);
    const killedArchive = join(env.NKVM_BACKUP_DIR!, 'sandbox', 'shop', 'orders', 'orders-20261203T101500000Z.tar.gz');
    const runningArchive = join(env.NKVM_BACKUP_DIR!, 'sandbox', 'media', 'archive-2019', 'archive-2019-20261203T101500000Z.tar.gz');
    await mkdir(dirname(killedArchive), { recursive: true });
    await mkdir(dirname(runningArchive), { recursive: true });
    await mkdir(dirname(env.NKVM_METADATA_DB_PATH!), { recursive: true });
    const killedCopy = startLeftover('test/unit/backup/partialWriter.ts', [killedArchive]);
    const runningCopy = startLeftover('test/unit/backup/partialWriter.ts', [runningArchive]);
    const killedRow = startLeftover('test/unit/history/runningRowWriter.ts', [env.NKVM_METADATA_DB_PATH!, 'data-orders-db-0']);
    leftovers.push(killedCopy, runningCopy, killedRow);
    await Promise.all([killedCopy.ready, runningCopy.ready, killedRow.ready]);
    for (const killed of [killedCopy, killedRow]) {
      killed.child.kill('SIGKILL');
      await killed.exited;
    }

    const r = await runNkvm(['backup', 'shop/storefront-uploads'], { cwd: sb.dir, env });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(existsSync(`${killedArchive}.partial`), false, 'the killed run left its partial archive');
    assert.equal(existsSync(`${killedArchive}.partial.owner`), false);
    assert.equal(existsSync(`${runningArchive}.partial`), true, 'the partial archive of a running backup was removed');

    const h = await runNkvm(['history', '--limit', '5'], { cwd: sb.dir, env });
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /^\d+\s+\S+\s+shop\s+data-orders-db-0\s+interrupted at the copy stage\s+-\s+full\s+-\s+Interrupted at the copy stage: the process that ran it \(process \d+ on .+\) ended before it finished\.$/m);
    assert.match(h.stdout, /^\d+\s+\S+\s+shop\s+storefront-uploads\s+success\s/m);
  });

  it('a `restore` killed mid-way is recorded from its start and shows as interrupted, naming the archive', async () => {
    const env = sandboxEnv(sb);
    const backup = await runNkvm(['backup', 'media/archive-2019', '--json'], { cwd: sb.dir, env });
    assert.equal(backup.code, 0, backup.stderr + backup.stdout);
    const history = async () => JSON.parse((await runNkvm(['history', '--json', '--limit', '50'], { cwd: sb.dir, env })).stdout) as HistoryRow[];
    const source = (await history()).find((row) => row.pvcName === 'archive-2019' && row.status === 'success')!;
    // Every API call slowed down, so the restore is still at work when it is killed.
    const removeLatency = sb.cluster.faults.inject({ kind: 'latency', ms: 400 });
    try {
      const child = spawn(process.execPath, [...nkvmCommand(), 'restore', String(source.id), '--to', 'media/restored-then-killed', '--new-claim'], {
        cwd: sb.dir,
        env: { ...process.env, ...env },
        stdio: 'ignore',
      });
      const exited = new Promise((done) => child.once('exit', done));
      const runningRestore = () =>
        execFileSync('sqlite3', [env.NKVM_METADATA_DB_PATH!, "SELECT stage FROM backup_history WHERE operation = 'restore' AND status = 'running'"], { encoding: 'utf8' }).trim();
      await eventually('a running restore row', () => runningRestore() !== '', 30_000);
      child.kill('SIGKILL');
      await exited;
    } finally {
      removeLatency();
    }
    const restore = (await history()).find((row) => row.operation === 'restore')!;
    assert.equal(restore.status, 'interrupted');
    assert.equal(restore.pvcName, 'restored-then-killed');
    assert.equal(restore.backupPath, source.backupPath);
    assert.match(restore.message!, /^Interrupted at the \w+ stage: the process that ran it \(process \d+ on .+\) ended before it finished\.$/);
  });
});
