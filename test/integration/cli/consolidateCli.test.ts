import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { buildChainOfThree, chainHistory, treeState } from '../../unit/incremental/chainBackupRows';
import { runTar } from '../../unit/incremental/localHelper';
import { runNkvm } from './runNkvm';

describe('nkvm consolidate', function () {
  this.timeout(60_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nkvm-cli-consolidate-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('merges an incremental backup into a new full backup that tar restores, and refuses a full one', async () => {
    const built = buildChainOfThree(dir, 'gnu');
    const folder = join(dir, 'history');
    mkdirSync(folder);
    await (await chainHistory(folder, built.chain)).close();
    const nkvm = (args: string[]) => runNkvm(args, { cwd: dir, env: { NKVM_METADATA_DB_PATH: join(folder, 'backups.db') } });

    const run = await nkvm(['consolidate', '3']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^#4 shop\/orders: full backup consolidated from #1, #2, #3\n/);
    assert.match(run.stdout, /\n {2}.*orders-3-full\.tar\.gz \(\d+ bytes, sha256 [0-9a-f]{64}\)\n$/);

    const history = await HistoryStore.open(join(folder, 'backups.db'));
    const row = (await history.get(4))!;
    await history.close();
    assert.deepEqual([row.kind, row.status, row.message], ['full', 'success', 'Consolidated from backups #1, #2, #3']);
    const restored = join(dir, 'restored');
    mkdirSync(restored);
    const x = runTar('gnu', ['-xzf', row.backupPath!], restored);
    assert.equal(x.status, 0, x.stderr);
    assert.deepEqual(treeState(restored), built.states[2]);

    const refused = await nkvm(['consolidate', '1']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^nkvm: Backup #1 \(shop\/orders\) is already full/);
    assert.equal(readdirSync(folder).filter((n) => n.includes('orders-1-full')).length, 0);
  });
});
