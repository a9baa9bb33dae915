import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readChainArchive } from '../../../src/core/incremental/chainArchive';
import { BrokenChainError, resolveChainTree, type ChainArchive } from '../../../src/core/incremental/chainTree';
import { MANIFEST_MEMBER, pathBytes } from '../../../src/core/incremental/incrementalManifest';
import { readManifest } from '../../../src/core/incremental/manifestMember';
import type { PodListing } from '../../../src/core/incremental/podListing';
import { fullBackupLocally, incrementalBackupLocally, listLocally, type LocalBackup } from './localChain';
import { runTar, type Userland } from './localHelper';

const at = (root: string, name: string): Buffer => Buffer.concat([Buffer.from(`${root}/`), Buffer.from(name, 'latin1')]);
const pause = () => new Promise((r) => setTimeout(r, 50));
const USERLANDS: Userland[] = ['busybox', 'gnu'];

/** What a restore must give back: names, types, sizes, modes, owners, link targets, file mtimes and contents. */
function treeOf(root: string, listing: PodListing): string[] {
  return listing.entries
    .filter((e) => e.name !== '.')
    .map((e) => {
      const content = e.type === 'file' ? readFileSync(at(root, e.name)).toString('base64') : '';
      const mtime = e.type === 'file' ? e.mtime.s : '';
      return JSON.stringify([e.name, e.type, e.type === 'file' ? e.size : 0, e.mode.toString(8), e.uid, e.gid, e.linkname ?? '', mtime, content]);
    })
    .sort();
}

/** The by-hand restore of docs/adr: for each archive in order, remove the paths its manifest lists, then extract it. */
async function restoreByHand(chain: readonly LocalBackup[], tar: Userland, dest: string): Promise<void> {
  for (const backup of chain) {
    const manifest = await readManifest(backup.path);
    for (const p of manifest?.deleted ?? []) rmSync(at(dest, pathBytes(p)), { recursive: true, force: true });
    const x = runTar(tar, ['xzf', backup.path, '-C', dest, `--exclude=${MANIFEST_MEMBER}`], dest);
    assert.equal(x.status, 0, `${tar} tar: ${x.stderr}`);
  }
}

for (const userland of USERLANDS) {
  describe(`a chain of four backups (helper with ${userland} tools)`, function () {
    this.timeout(60_000);
    let work: string;
    let root: string;
    const chain: LocalBackup[] = [];
    let racyMtime: Date;

    before(async () => {
      work = mkdtempSync(join(tmpdir(), 'nkvm-chain-'));
      root = join(work, 'volume');
      mkdirSync(join(root, 'docs'), { recursive: true });
      mkdirSync(join(root, 'dir-to-file'));
      mkdirSync(join(root, 'old'));
      writeFileSync(join(root, 'docs', 'a.txt'), 'first');
      writeFileSync(join(root, 'docs', 'keep.txt'), 'never changes');
      writeFileSync(join(root, 'rename-me.txt'), 'moving');
      writeFileSync(join(root, 'mode.sh'), '#!/bin/sh\n');
      chmodSync(join(root, 'mode.sh'), 0o644);
      writeFileSync(join(root, 'dir-to-file', 'child'), 'c');
      writeFileSync(join(root, 'file-to-dir'), 'f');
      writeFileSync(join(root, 'old', 'x'), 'x');
      writeFileSync(join(root, 'racy.txt'), 'AAAA');
      writeFileSync(at(root, 'name\nwith newline'), 'n1');
      writeFileSync(at(root, 'latin\xe9'), 'l');
      symlinkSync('docs/a.txt', join(root, 'link'));
      await pause();
      chain.push(fullBackupLocally(root, userland, join(work, '1.tar.gz'), 1));

      writeFileSync(join(root, 'docs', 'a.txt'), 'second, longer');
      writeFileSync(join(root, 'renamed.txt'), readFileSync(join(root, 'rename-me.txt')));
      unlinkSync(join(root, 'rename-me.txt'));
      chmodSync(join(root, 'mode.sh'), 0o755);
      unlinkSync(join(root, 'link'));
      symlinkSync('docs/keep.txt', join(root, 'link'));
      writeFileSync(join(root, 'new.txt'), 'new');
      await pause();
      chain.push(incrementalBackupLocally(root, userland, join(work, '2.tar.gz'), 2, chain));

      rmSync(join(root, 'dir-to-file'), { recursive: true });
      writeFileSync(join(root, 'dir-to-file'), 'was a folder');
      unlinkSync(join(root, 'file-to-dir'));
      mkdirSync(join(root, 'file-to-dir'));
      writeFileSync(join(root, 'file-to-dir', 'inside'), 'i');
      rmSync(join(root, 'old'), { recursive: true });
      // Rewritten with the same size and its mtime put back to the same second: only ctime tells.
      racyMtime = statSync(join(root, 'racy.txt')).mtime;
      writeFileSync(join(root, 'racy.txt'), 'BBBB');
      utimesSync(join(root, 'racy.txt'), racyMtime, racyMtime);
      await pause();
      chain.push(incrementalBackupLocally(root, userland, join(work, '3.tar.gz'), 3, chain));

      writeFileSync(at(root, 'name\nwith newline'), 'n2');
      rmSync(at(root, 'latin\xe9'));
      writeFileSync(join(root, 'file-to-dir', 'later'), 'l');
      unlinkSync(join(root, 'link'));
      symlinkSync('nowhere', join(root, 'link'));
      await pause();
      chain.push(incrementalBackupLocally(root, userland, join(work, '4.tar.gz'), 4, chain));
    });
    after(() => rmSync(work, { recursive: true, force: true }));

    for (const tar of USERLANDS) {
      it(`restores by hand with ${tar} tar to the volume as it was at the last backup`, async () => {
        const dest = join(work, `restored-${tar}`);
        mkdirSync(dest);
        await restoreByHand(chain, tar, dest);
        assert.deepEqual(treeOf(dest, listLocally(dest, 'gnu')), treeOf(root, listLocally(root, 'gnu')));
      });
    }

    it('sends only what changed', () => {
      const sent = chain.slice(1).map((b) => [...b.plan!.selection.names].sort());
      assert.deepEqual(sent[0], ['.', 'docs/a.txt', 'link', 'mode.sh', 'new.txt', 'renamed.txt']);
      assert.deepEqual(sent[1], ['.', 'dir-to-file', 'file-to-dir', 'file-to-dir/inside', 'racy.txt']);
      assert.deepEqual(sent[2], ['.', 'file-to-dir', 'file-to-dir/later', 'link', 'name\nwith newline']);
      // utimes keeps microseconds at best, so the mtime may differ below the second; the ctime always does.
      assert.ok(chain[2]!.plan!.changes.changed.find((c) => c.entry.name === 'racy.txt')?.reasons.includes('ctime'));
    });

    it('tells which archive supplies each path of the final tree, and which paths are gone', async () => {
      const archives = await Promise.all(chain.map((b) => readChainArchive(b.path, b.ref.id)));
      const tree = resolveChainTree(archives);
      const volume = listLocally(root, 'gnu').entries.map((e) => (e.name === '.' ? '' : e.name)).sort();
      assert.deepEqual([...tree.sources.keys()].sort(), volume);
      const source = (p: string) => tree.sources.get(p);
      assert.deepEqual(
        ['docs/keep.txt', 'docs/a.txt', 'renamed.txt', 'mode.sh', 'racy.txt', 'dir-to-file', 'file-to-dir/inside', 'link', 'name\nwith newline'].map(source),
        [0, 1, 1, 1, 2, 2, 2, 3, 3],
      );
      assert.deepEqual([...tree.deleted].sort(), ['dir-to-file/child', 'latin\xe9', 'old', 'old/x', 'rename-me.txt']);
    });

    it('refuses a chain out of order, or one that does not start with the full backup', async () => {
      const archives: ChainArchive[] = await Promise.all(chain.map((b) => readChainArchive(b.path, b.ref.id)));
      assert.throws(() => resolveChainTree([archives[0]!, archives[2]!]), BrokenChainError);
      assert.throws(() => resolveChainTree(archives.slice(1)), /is an incremental archive; a chain starts with the full backup/);
      const swapped = [{ ...archives[0]!, sha256: 'f'.repeat(64) }, ...archives.slice(1)];
      assert.throws(() => resolveChainTree(swapped), /builds on backup 1/);
    });
  });
}
