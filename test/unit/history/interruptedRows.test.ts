import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { itWithSqlite3, sqlite3Lines } from './sqlite3Cli';

interface RowWriter {
  readonly child: ChildProcess;
  readonly id: Promise<number>;
  readonly exited: Promise<unknown>;
}

/** A process in the middle of a backup: its row is `running` at the copy stage. */
function startRowWriter(dbPath: string, pvcName: string): RowWriter {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'runningRowWriter.ts'), dbPath, pvcName], {
    cwd: path.resolve(__dirname, '../../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const id = new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    void exited.then(() => reject(new Error(`the row writer ended early: ${stderr}`)));
  });
  return { child, id, exited };
}

describe('History rows of runs whose process ended', function () {
  this.timeout(60_000);
  let root: string;
  let dbPath: string;
  const writers: RowWriter[] = [];

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'nkvm-interrupted-'));
    dbPath = path.join(root, 'backups.db');
  });
  afterEach(async () => {
    for (const writer of writers.splice(0)) {
      writer.child.kill('SIGKILL');
      await writer.exited;
    }
    await rm(root, { recursive: true, force: true });
  });

  it('become interrupted at the stage they reached once their process is killed; a live one stays running', async () => {
    const killed = startRowWriter(dbPath, 'orders');
    const alive = startRowWriter(dbPath, 'invoices');
    writers.push(killed, alive);
    const killedId = await killed.id;
    const aliveId = await alive.id;
    killed.child.kill('SIGKILL');
    await killed.exited;

    const store = await HistoryStore.open(dbPath);
    try {
      const marked = await store.markInterruptedRows();
      assert.deepEqual(marked.map((row) => row.id), [killedId]);
      const row = (await store.get(killedId))!;
      assert.equal(row.status, 'interrupted');
      assert.equal(row.stage, 'copy');
      assert.match(row.message ?? '', /^Interrupted at the copy stage: the process that ran it \(process \d+ on .+\) ended before it finished\.$/);
      assert.match(row.nextStep ?? '', /Run the backup again/);
      assert.equal((await store.get(aliveId))!.status, 'running');
      // Nothing left to mark: a second look changes nothing.
      assert.deepEqual(await store.markInterruptedRows(), []);
    } finally {
      await store.close();
    }
  });

  it('stay running when the process finishes them, and lose their owner', async () => {
    const store = await HistoryStore.open(dbPath);
    try {
      const id = await store.append({ namespace: 'shop', pvcName: 'orders', status: 'running', stage: 'create' });
      await store.update(id, { status: 'success', stage: 'cleanup' });
      assert.deepEqual(await store.markInterruptedRows(), []);
      assert.equal((await store.get(id))!.status, 'success');
    } finally {
      await store.close();
    }
  });

  itWithSqlite3('of another host are left running, since a pid says nothing there', async () => {
    const store = await HistoryStore.open(dbPath);
    try {
      const id = await store.append({ namespace: 'shop', pvcName: 'orders', status: 'running', stage: 'copy' });
      await store.close();
      sqlite3Lines(dbPath, `UPDATE backup_history SET owner = '{"pid":1,"host":"other-host.example"}' WHERE id = ${id}`);
      const reopened = await HistoryStore.open(dbPath);
      try {
        assert.deepEqual(await reopened.markInterruptedRows(), []);
        assert.equal((await reopened.get(id))!.status, 'running');
      } finally {
        await reopened.close();
      }
    } finally {
      await store.close();
    }
  });

  itWithSqlite3('are readable with the sqlite3 command as the runbook queries them', async () => {
    const writer = startRowWriter(dbPath, 'orders');
    writers.push(writer);
    await writer.id;
    writer.child.kill('SIGKILL');
    await writer.exited;
    const store = await HistoryStore.open(dbPath);
    try {
      await store.markInterruptedRows();
    } finally {
      await store.close();
    }
    assert.deepEqual(sqlite3Lines(dbPath, 'SELECT pvc_name, status, stage FROM backup_history'), ['orders|interrupted|copy']);
    assert.deepEqual(sqlite3Lines(dbPath, 'PRAGMA integrity_check'), ['ok']);
  });
});
