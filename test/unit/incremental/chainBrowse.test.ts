import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveDirectory } from '../../../src/core/archive/archiveDirectory';
import { buildArchiveIndex } from '../../../src/core/archive/archiveIndex';
import { extractBackup } from '../../../src/core/archive/extractBackup';
import { openArchiveIndex } from '../../../src/core/archive/openArchiveIndex';
import { readArchiveFile } from '../../../src/core/archive/readArchiveFile';
import type { HistoryStore } from '../../../src/core/history/historyStore';
import { buildChainOfThree, caseFolder, chainHistory, treeState, type LocalChainOfThree } from './chainBackupRows';
import type { Userland } from './localHelper';

const USERLANDS: Userland[] = ['busybox', 'gnu'];

for (const userland of USERLANDS) {
  describe(`browsing and extracting an incremental backup (helper with ${userland} tools)`, function () {
    this.timeout(60_000);
    let work: string;
    let built: LocalChainOfThree;
    let folder: string;
    let history: HistoryStore;

    before(() => {
      work = mkdtempSync(join(tmpdir(), 'nkvm-chain-browse-'));
      built = buildChainOfThree(work, userland);
    });
    after(() => rmSync(work, { recursive: true, force: true }));
    beforeEach(async () => {
      folder = caseFolder(work);
      history = await chainHistory(folder, built.chain);
    });
    afterEach(() => history.close());

    const open = async (id: number) => openArchiveIndex(history, (await history.get(id))!);
    const read = async (id: number, path: string) => {
      const opened = await open(id);
      return (await readArchiveFile(opened.archiveHolding(path), path)).toString('utf8');
    };

    it('lists each backup of the chain as the volume was at that backup, with deletions applied and no manifest', async () => {
      for (const id of [2, 3]) {
        const { index } = await open(id);
        const listed = index.entries.map((e) => e.path).sort();
        const expected = built.states[id - 1]!.map((row) => (JSON.parse(row) as string[])[0]!).sort();
        assert.deepEqual(listed, expected, `backup #${id}`);
      }
      const directory = new ArchiveDirectory((await open(3)).index);
      assert.equal(directory.lookup('old.txt'), undefined, 'a file deleted in #2 is gone');
      assert.equal(directory.lookup('gone/x.txt'), undefined, 'a folder deleted in #2 is gone with what it held');
      assert.equal(directory.lookup('new.txt'), undefined, 'a file added in #2 and deleted in #3 is gone');
      assert.equal(directory.lookup('.nkvm'), undefined);
      assert.equal(directory.lookup('mode.txt')!.mode & 0o777, 0o600, 'the mode of the newest archive');
      assert.equal(directory.lookup('link')!.linkname, 'docs/a.txt');
      assert.ok(new ArchiveDirectory((await open(2)).index).lookup('new.txt'), 'backup #2 still has the file #3 deleted');
    });

    it('reads each file from the archive of the chain that holds its version at that backup', async () => {
      assert.equal(await read(3, 'docs/a.txt'), 'second version');
      assert.equal(await read(3, 'keep.txt'), 'never changes');
      assert.equal(await read(3, 'docs/b.txt'), 'third');
      assert.equal(await read(2, 'new.txt'), 'added');
      assert.equal(await read(1, 'docs/a.txt'), 'first');
    });

    it('lists a full backup exactly as before', async () => {
      const opened = await open(1);
      const own = await buildArchiveIndex((await history.get(1))!.backupPath!);
      assert.deepEqual(opened.index, own);
      assert.equal(opened.archiveHolding('keep.txt'), (await history.get(1))!.backupPath);
    });

    it('keeps the merged listing until an archive anywhere in the chain changes', async () => {
      assert.equal((await open(3)).source, 'built');
      assert.equal((await open(3)).source, 'cache');
      // The full backup's file touched: same content, so the listing is merged again and saved again.
      const base = join(folder, 'orders-1.tar.gz');
      utimesSync(base, new Date('2026-04-01T00:00:00Z'), new Date('2026-04-01T00:00:00Z'));
      assert.equal((await open(3)).source, 'built');
      assert.equal((await open(3)).source, 'cache');
    });

    it('refuses to list through a missing middle archive, naming that backup', async () => {
      await open(3);
      renameSync(join(folder, 'orders-2.tar.gz'), join(folder, 'moved.tar.gz'));
      const missing = /^Error: Backup #3 is incremental and lists through its whole chain: backup 2 \(.*orders-2\.tar\.gz\) is missing/;
      await assert.rejects(open(3), missing);
    });

    it('refuses a chain whose base was replaced by another archive, naming it', async () => {
      renameSync(join(folder, 'orders-3.tar.gz'), join(folder, 'orders-1.tar.gz'));
      await assert.rejects(open(2), /Backup #2 .*: backup 1 \(.*orders-1\.tar\.gz\) does not match the checksum recorded/);
    });

    it('extracts the whole backup, and selected folders, as the volume was at that backup', async () => {
      const all = join(folder, 'all');
      const result = await extractBackup(history, (await history.get(3))!, all, { paths: [] });
      assert.deepEqual(result.refused, []);
      assert.deepEqual(treeState(all), built.states[2]);

      const docs = join(folder, 'docs-only');
      await extractBackup(history, (await history.get(3))!, docs, { paths: ['docs'] });
      assert.deepEqual(treeState(docs), built.states[2]!.filter((row) => (JSON.parse(row) as string[])[0]!.startsWith('docs')));
      assert.equal(readFileSync(join(docs, 'docs', 'a.txt'), 'utf8'), 'second version');
    });

    it('never writes outside the target folder when the target holds a symlink leading out', async () => {
      const target = join(folder, 'target');
      const outside = join(folder, 'outside');
      mkdirSync(target);
      mkdirSync(outside);
      symlinkSync(outside, join(target, 'docs'));
      const result = await extractBackup(history, (await history.get(3))!, target, { paths: ['docs'] });
      assert.ok(result.refused.some((r) => /docs.*leads outside the destination/.test(r.reason)), JSON.stringify(result.refused));
      assert.equal(existsSync(join(outside, 'a.txt')), false);
    });

    it('refuses to extract through a broken chain, naming the backup, and writes nothing', async () => {
      rmSync(join(folder, 'orders-2.tar.gz'));
      const target = join(folder, 'never');
      await assert.rejects(extractBackup(history, (await history.get(3))!, target), /Backup #3 .*: backup 2 \(.*\) is missing/);
      assert.equal(existsSync(target), false);
    });
  });
}
