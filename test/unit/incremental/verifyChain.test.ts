import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyBackup } from '../../../src/core/archive/verifyArchive';
import { HistoryStore } from '../../../src/core/history/historyStore';
import type { ChainVerifyResult } from '../../../src/core/incremental/verifyChain';
import { fullBackupLocally, incrementalBackupLocally, type LocalBackup } from './localChain';
import type { Userland } from './localHelper';

const USERLANDS: Userland[] = ['busybox', 'gnu'];

for (const userland of USERLANDS) {
  describe(`verifying an incremental backup checks its whole chain (helper with ${userland} tools)`, function () {
    this.timeout(60_000);
    let work: string;
    const chain: LocalBackup[] = [];
    let history: HistoryStore;
    let folder: string;

    before(() => {
      work = mkdtempSync(join(tmpdir(), 'nkvm-verify-chain-'));
      const root = join(work, 'volume');
      mkdirSync(join(root, 'docs'), { recursive: true });
      writeFileSync(join(root, 'docs', 'a.txt'), 'first');
      writeFileSync(join(root, 'keep.txt'), 'never changes');
      // History ids 1, 2, 3: each test's fresh history gives its rows these ids, as the manifests name them.
      chain.push(fullBackupLocally(root, userland, join(work, '1.tar.gz'), 1));
      writeFileSync(join(root, 'docs', 'a.txt'), 'second version');
      writeFileSync(join(root, 'new.txt'), 'added');
      chain.push(incrementalBackupLocally(root, userland, join(work, '2.tar.gz'), 2, chain));
      rmSync(join(root, 'new.txt'));
      writeFileSync(join(root, 'docs', 'b.txt'), 'third');
      chain.push(incrementalBackupLocally(root, userland, join(work, '3.tar.gz'), 3, chain));
    });
    after(() => rmSync(work, { recursive: true, force: true }));

    /** A fresh history recording the chain's archives (copied into the test's own folder) as backups 1, 2, 3. */
    beforeEach(async () => {
      folder = mkdtempSync(join(work, 'case-'));
      history = await HistoryStore.open(join(folder, 'backups.db'));
      for (const [index, backup] of chain.entries()) {
        const archive = join(folder, `${index + 1}.tar.gz`);
        copyFileSync(backup.path, archive);
        const kind = index === 0 ? {} : { kind: 'incremental' as const, baseId: index };
        const id = await history.append({
          context: 'prod', namespace: 'shop', pvcName: 'orders', status: 'success', backupPath: archive,
          checksum: backup.ref.sha256, sizeBytes: statSync(archive).size, ...kind,
        });
        assert.equal(id, backup.ref.id);
      }
    });
    afterEach(() => history.close());

    const verify = async (id: number): Promise<ChainVerifyResult> =>
      (await verifyBackup(history, (await history.get(id))!)) as ChainVerifyResult;

    it('passes an intact chain and records the outcome on every backup of it', async () => {
      const result = await verify(3);
      assert.equal(result.outcome, 'ok', result.message);
      assert.match(result.message, /^3 archives of the chain \(#1, #2, #3\) read to the end; checksums match/);
      assert.deepEqual(result.links.map((l) => [l.id, l.result.outcome]), [[1, 'ok'], [2, 'ok'], [3, 'ok']]);
      for (const id of [1, 2, 3]) assert.equal((await history.get(id))!.verifyOutcome, 'ok');
    });

    it('fails when a middle archive is missing, naming that backup', async () => {
      renameSync(join(folder, '2.tar.gz'), join(folder, 'moved.tar.gz'));
      const result = await verify(3);
      assert.equal(result.outcome, 'missing');
      assert.equal(result.brokenId, 2);
      assert.match(result.message, /^Backup #2 \(.*2\.tar\.gz\), which #3 restores through: The archive .* does not exist/);
      const row = (await history.get(3))!;
      assert.deepEqual([row.verifyOutcome, row.verifyMessage], ['missing', result.message]);
      assert.equal((await history.get(2))!.verifyOutcome, 'missing');
    });

    it('fails when a middle archive does not match its recorded checksum, naming that backup', async () => {
      await history.update(2, { checksum: 'f'.repeat(64) });
      const result = await verify(3);
      assert.equal(result.outcome, 'checksum-differs');
      assert.equal(result.brokenId, 2);
      assert.match(result.message, /^Backup #2 .*which #3 restores through: .*sha256 is [0-9a-f]{64}, not f{64}/);
    });

    it('fails when a middle archive was cut short, naming that backup, with or without a recorded size', async () => {
      const archive = join(folder, '2.tar.gz');
      truncateSync(archive, statSync(archive).size - 40);
      let result = await verify(3);
      assert.deepEqual([result.outcome, result.brokenId], ['size-differs', 2]);
      assert.match(result.message, /^Backup #2 .*which #3 restores through/);
      await history.update(2, { sizeBytes: null });
      result = await verify(3);
      assert.deepEqual([result.outcome, result.brokenId], ['damaged', 2]);
      assert.match(result.message, /^Backup #2 .*which #3 restores through: The archive is damaged/);
    });

    it('fails when the history points a backup at an archive of another place in the chain', async () => {
      // Archive 3 recorded as backup 2: every file checks out alone, but its manifest names two backups before it.
      copyFileSync(join(folder, '3.tar.gz'), join(folder, '2.tar.gz'));
      await history.update(2, { checksum: chain[2]!.ref.sha256, sizeBytes: statSync(join(folder, '2.tar.gz')).size });
      const result = await verify(3);
      assert.equal(result.outcome, 'damaged');
      assert.match(result.message, /^The archives do not form #3's chain: .*2\.tar\.gz builds on 2 earlier archives/);
      assert.match(result.message, /but the chain gives it 1/);
    });

    it('fails without reading archives when a base was pruned, naming it', async () => {
      await history.markPruned(1, new Date('2026-03-01T00:00:00.000Z'));
      const result = await verify(2);
      assert.deepEqual([result.outcome, result.brokenId], ['missing', 1]);
      assert.match(result.message, /^Backup #1, the base of #2, was deleted by retention/);
    });

    it('verifies the full backup alone as before', async () => {
      rmSync(join(folder, '2.tar.gz'));
      const result = await verifyBackup(history, (await history.get(1))!);
      assert.equal(result.outcome, 'ok');
      assert.match(result.message, /entries read to the end; checksum matches/);
      assert.equal('links' in result, false);
    });
  });
}
