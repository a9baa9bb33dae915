import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { sqlite3Available, sqlite3Lines } from './sqlite3Cli';

const WORKERS = 4;
const RECORDS_PER_WORKER = 100;

function runWorker(dbPath: string, name: string): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'appendWorker.ts'), dbPath, name, String(RECORDS_PER_WORKER)],
      { cwd: path.resolve(__dirname, '../../..'), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) {
        resolve(JSON.parse(stdout) as number[]);
      } else {
        reject(new Error(`worker ${name} exited with ${code}: ${stderr}`));
      }
    });
  });
}

describe('HistoryStore with several processes', function () {
  this.timeout(180_000);
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'nkvm-concurrency-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it(`keeps every record when ${WORKERS} processes append ${RECORDS_PER_WORKER} each at once`, async () => {
    const dbPath = path.join(root, 'backups.db');
    const names = Array.from({ length: WORKERS }, (_, index) => `worker-${index}`);
    const idsPerWorker = await Promise.all(names.map((name) => runWorker(dbPath, name)));

    const allIds = idsPerWorker.flat();
    assert.equal(allIds.length, WORKERS * RECORDS_PER_WORKER);
    assert.equal(new Set(allIds).size, allIds.length, 'ids must be unique');

    const store = await HistoryStore.open(dbPath);
    try {
      assert.equal(await store.count(), WORKERS * RECORDS_PER_WORKER);
      for (const [index, name] of names.entries()) {
        const records = await store.byRun(name);
        assert.deepEqual(records.map((record) => record.id).sort((a, b) => a - b), [...idsPerWorker[index]!].sort((a, b) => a - b));
        // Each worker's own records keep the order it wrote them in.
        assert.deepEqual(records.map((record) => record.pvcName), idsPerWorker[index]!.map((_, i) => `${name}-pvc-${i}`));
      }
    } finally {
      await store.close();
    }
    if (sqlite3Available) {
      assert.deepEqual(sqlite3Lines(dbPath, 'SELECT count(*), count(DISTINCT id) FROM backup_history'), ['400|400']);
    }
    // No lock or temp file is left behind once every writer is done.
    assert.deepEqual(await readdir(root), ['backups.db']);
  });
});
