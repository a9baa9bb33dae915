import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { removeAbandonedPartials } from '../../../src/core/backup/abandonedPartials';
import { PartialArchive } from '../../../src/core/backup/partialArchive';

interface Writer {
  readonly child: ChildProcess;
  readonly partialPath: Promise<string>;
  readonly exited: Promise<unknown>;
}

/** A backup in another process, stopped in the middle of its copy. */
function startWriter(finalPath: string): Writer {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'partialWriter.ts'), finalPath], {
    cwd: path.resolve(__dirname, '../../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const partialPath = new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    void exited.then(() => reject(new Error(`the writer ended early: ${stderr}`)));
  });
  return { child, partialPath, exited };
}

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

describe('Partial archives of backups whose process ended', function () {
  this.timeout(60_000);
  let backupDir: string;
  const writers: Writer[] = [];

  beforeEach(async () => {
    backupDir = await mkdtemp(path.join(tmpdir(), 'nkvm-partials-'));
  });
  afterEach(async () => {
    for (const writer of writers.splice(0)) {
      writer.child.kill('SIGKILL');
      await writer.exited;
    }
    await rm(backupDir, { recursive: true, force: true });
  });

  function archiveOf(pvc: string): string {
    return path.join(backupDir, 'dev', 'shop', pvc, `${pvc}-20261203T101500000Z.tar.gz`);
  }

  it('are removed with their owner file once the backup is killed; a running backup keeps its own', async () => {
    await mkdir(path.dirname(archiveOf('orders')), { recursive: true });
    await mkdir(path.dirname(archiveOf('invoices')), { recursive: true });
    const killed = startWriter(archiveOf('orders'));
    const running = startWriter(archiveOf('invoices'));
    writers.push(killed, running);
    await killed.partialPath;
    await running.partialPath;
    killed.child.kill('SIGKILL');
    await killed.exited;
    assert.deepEqual(await filesUnder(backupDir), [
      'dev/shop/invoices/invoices-20261203T101500000Z.tar.gz.partial',
      'dev/shop/invoices/invoices-20261203T101500000Z.tar.gz.partial.owner',
      'dev/shop/orders/orders-20261203T101500000Z.tar.gz.partial',
      'dev/shop/orders/orders-20261203T101500000Z.tar.gz.partial.owner',
    ]);

    const result = await removeAbandonedPartials(backupDir);
    assert.deepEqual(result.removed, [`${archiveOf('orders')}.partial`]);
    assert.deepEqual(await filesUnder(backupDir), [
      'dev/shop/invoices/invoices-20261203T101500000Z.tar.gz.partial',
      'dev/shop/invoices/invoices-20261203T101500000Z.tar.gz.partial.owner',
    ]);
  });

  it('from another host are kept while written to, and removed once untouched for a day', async () => {
    const partialPath = `${archiveOf('orders')}.partial`;
    await mkdir(path.dirname(partialPath), { recursive: true });
    await writeFile(partialPath, 'half an archive');
    await writeFile(`${partialPath}.owner`, JSON.stringify({ pid: 1, host: 'other-host.example', createdAt: new Date().toISOString() }));
    assert.deepEqual((await removeAbandonedPartials(backupDir)).removed, []);

    const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
    await utimes(partialPath, twoDaysAgo, twoDaysAgo);
    assert.deepEqual((await removeAbandonedPartials(backupDir)).removed, [partialPath]);
    assert.deepEqual(await filesUnder(backupDir), []);
  });

  it('include an owner file a backup killed while writing it left empty, with no partial archive beside it', async () => {
    const partialPath = `${archiveOf('orders')}.partial`;
    await mkdir(path.dirname(partialPath), { recursive: true });
    await writeFile(`${partialPath}.owner`, '');
    assert.deepEqual((await removeAbandonedPartials(backupDir)).removed, [`${partialPath}.owner`]);
    assert.deepEqual(await filesUnder(backupDir), []);
  });

  it('never include other programs\' .partial files in the backup folder, however old', async () => {
    const foreign = [path.join(path.dirname(archiveOf('orders')), 'movie.mkv.partial'), path.join(backupDir, 'orders-20261203T101500000Z.tar.gz.partial')];
    const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
    for (const file of foreign) {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, 'someone else\'s download');
      await utimes(file, twoDaysAgo, twoDaysAgo);
    }
    assert.deepEqual((await removeAbandonedPartials(backupDir)).removed, []);
    assert.deepEqual(await filesUnder(backupDir), ['dev/shop/orders/movie.mkv.partial', 'orders-20261203T101500000Z.tar.gz.partial']);
  });

  it('leave nothing behind once committed or discarded, and final archives are never touched', async () => {
    await mkdir(path.dirname(archiveOf('orders')), { recursive: true });
    const committed = await PartialArchive.create(archiveOf('orders'));
    await committed.finish();
    await committed.commit();
    const discarded = await PartialArchive.create(path.join(path.dirname(archiveOf('orders')), 'orders-20261203T111500000Z.tar.gz'));
    await discarded.discard();
    assert.deepEqual((await removeAbandonedPartials(backupDir)).removed, []);
    assert.deepEqual(await filesUnder(backupDir), ['dev/shop/orders/orders-20261203T101500000Z.tar.gz']);
  });

  it('find nothing to do in a backup folder that does not exist yet', async () => {
    assert.deepEqual(await removeAbandonedPartials(path.join(backupDir, 'not-yet')), { removed: [], kept: [] });
  });
});
