import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { systemTarGz } from '../../unit/archive/craftedArchive';
import { runNkvm } from './runNkvm';

describe('nkvm verify and nkvm prune', function () {
  this.timeout(60_000);
  let dir: string;
  let dbPath: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nkvm-cli-maintenance-'));
    dbPath = join(dir, 'data', 'backups.db');
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const nkvm = (args: string[], env: Record<string, string> = {}) => runNkvm(args, { cwd: dir, env: { NKVM_METADATA_DB_PATH: dbPath, ...env } });

  async function recordBackup(name: string, createdAt: Date): Promise<{ id: number; archive: string }> {
    const volume = join(dir, name);
    await mkdir(volume);
    await writeFile(join(volume, 'data.txt'), `content of ${name}\n`.repeat(500));
    const archive = join(dir, `${name}.tar.gz`);
    systemTarGz(volume, archive);
    const bytes = await readFile(archive);
    const history = await HistoryStore.open(dbPath);
    try {
      const id = await history.append({
        context: 'prod', namespace: 'shop', pvcName: 'orders', status: 'success', createdAt,
        backupPath: archive, sizeBytes: bytes.length, checksum: createHash('sha256').update(bytes).digest('hex'),
      });
      return { id, archive };
    } finally {
      await history.close();
    }
  }

  it('verify by id exits 0 on a good archive, 1 on a damaged one, and saves the outcome', async () => {
    const { id, archive } = await recordBackup('good', new Date());
    const ok = await nkvm(['verify', String(id)]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /: ok: .*checksum matches/);

    const bytes = await readFile(archive);
    bytes[bytes.length >> 1]! ^= 0x10;
    await writeFile(archive, bytes);
    const bad = await nkvm(['verify', archive, '--json']);
    assert.equal(bad.code, 1);
    assert.equal(JSON.parse(bad.stdout).outcome, 'damaged');
    const history = await HistoryStore.open(dbPath);
    try {
      assert.equal((await history.get(id))!.verifyOutcome, 'damaged');
    } finally {
      await history.close();
    }
  });

  it('prune --dry-run lists without deleting; prune deletes the old archive and keeps the newest', async () => {
    const old = await recordBackup('old', new Date(Date.now() - 40 * 86_400_000));
    const recent = await recordBackup('recent', new Date());
    const env = { NKVM_RETENTION_MAX_AGE_DAYS: '30' };

    const dry = await nkvm(['prune', '--dry-run', '--json'], env);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(JSON.parse(dry.stdout).prune.map((p: { id: number }) => p.id), [old.id]);
    assert.ok(existsSync(old.archive));

    const real = await nkvm(['prune'], env);
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /Pruned 1 archive\(s\)/);
    assert.ok(!existsSync(old.archive));
    assert.ok(existsSync(recent.archive));
  });

  it('refuses a bad retention value and names the variable', async () => {
    const r = await nkvm(['prune'], { NKVM_RETENTION_KEEP_LAST: 'many' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /NKVM_RETENTION_KEEP_LAST must be a whole number/);
  });
});
