import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  chmodSync, copyFileSync, createWriteStream, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync,
  statSync, symlinkSync, truncateSync, unlinkSync, utimesSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { consolidateChain } from '../../../src/core/incremental/consolidateChain';
import { mergedChainStream } from '../../../src/core/incremental/mergedChainStream';
import { openChain, type ChainLink } from '../../../src/core/incremental/openChain';
import type { PodListing } from '../../../src/core/incremental/podListing';
import { fullBackupLocally, incrementalBackupLocally, listLocally, type LocalBackup } from './localChain';
import { runTar, type Userland } from './localHelper';

const at = (root: string, name: string): Buffer => Buffer.concat([Buffer.from(`${root}/`), Buffer.from(name, 'latin1')]);
const pause = () => new Promise((r) => setTimeout(r, 50));
const USERLANDS: Userland[] = ['busybox', 'gnu'];
const LONG = `deep/${'d'.repeat(120)}/${'f'.repeat(110)}.txt`;

/**
 * What a restore must give back: names, types, sizes, modes, owners, link counts, link targets, contents and
 * file times (folder times end as the by-hand restore leaves them: set by tar, then bumped by later writes).
 */
function treeOf(root: string, listing: PodListing): string[] {
  return listing.entries
    .filter((e) => e.name !== '.')
    .map((e) => {
      const content = e.type === 'file' ? readFileSync(at(root, e.name)).toString('base64') : '';
      const mtime = e.type === 'file' ? e.mtime.s : '';
      const links = e.type === 'file' ? e.links : '';
      const size = e.type === 'file' ? e.size : 0;
      return JSON.stringify([e.name, e.type, size, e.mode.toString(8), e.uid, e.gid, links, e.linkname ?? '', mtime, content]);
    })
    .sort();
}

const linksOf = (chain: readonly LocalBackup[]): ChainLink[] => chain.map((b) => ({ path: b.path, id: b.ref.id, sha256: b.ref.sha256 }));

function extract(tar: Userland, archive: string, dest: string, gzipped = false): void {
  mkdirSync(dest);
  const x = runTar(tar, [gzipped ? 'xzf' : 'xf', archive, '-C', dest], dest);
  assert.equal(x.status, 0, `${tar} tar: ${x.stderr}`);
}

/** The member names GNU tar lists (escaped, one a line), each path once and every folder before what it holds. */
function listedNames(archive: string, gzipped: boolean): string[] {
  const t = runTar('gnu', [gzipped ? '-tzf' : '-tf', archive], tmpdir());
  assert.equal(t.status, 0, t.stderr);
  const names = t.stdout.toString('latin1').split('\n').filter(Boolean);
  assert.equal(new Set(names).size, names.length, 'a path is listed twice');
  const position = new Map(names.map((n, i) => [n.replace(/\/$/, ''), i]));
  names.forEach((name, i) => {
    const path = name.replace(/\/$/, '');
    if (!path.includes('/')) return;
    const parent = path.replace(/\/[^/]*$/, '');
    assert.ok((position.get(parent) ?? -1) < i, `${name} comes before its folder ${parent}`);
  });
  return names;
}

for (const userland of USERLANDS) {
  describe(`merging a chain of four backups into one tar (helper with ${userland} tools)`, function () {
    this.timeout(120_000);
    let work: string;
    let root: string;
    const chain: LocalBackup[] = [];
    /** The volume right after each backup, and its entry count. */
    const states: { tree: string[]; entries: number }[] = [];
    const record = () => {
      const listing = listLocally(root, 'gnu');
      states.push({ tree: treeOf(root, listing), entries: listing.entries.length });
    };

    before(async () => {
      work = mkdtempSync(join(tmpdir(), 'nkvm-merge-'));
      root = join(work, 'volume');
      mkdirSync(join(root, 'docs'), { recursive: true });
      mkdirSync(join(root, 'dir-to-file'));
      mkdirSync(join(root, 'old'));
      mkdirSync(join(root, 'hl'));
      mkdirSync(join(root, LONG, '..'), { recursive: true });
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
      writeFileSync(join(root, 'hl', 'a'), 'shared');
      linkSync(join(root, 'hl', 'a'), join(root, 'hl', 'b'));
      writeFileSync(join(root, LONG), 'long name');
      symlinkSync('docs/a.txt', join(root, 'link'));
      await pause();
      chain.push(fullBackupLocally(root, userland, join(work, '1.tar.gz'), 1));
      record();

      writeFileSync(join(root, 'docs', 'a.txt'), 'second, longer');
      writeFileSync(join(root, 'renamed.txt'), readFileSync(join(root, 'rename-me.txt')));
      unlinkSync(join(root, 'rename-me.txt'));
      chmodSync(join(root, 'mode.sh'), 0o755);
      // A folder whose mode changes while what it holds stays in the full backup.
      chmodSync(join(root, 'docs'), 0o750);
      unlinkSync(join(root, 'link'));
      symlinkSync('docs/keep.txt', join(root, 'link'));
      writeFileSync(join(root, 'new.txt'), 'new');
      writeFileSync(join(root, LONG), 'long name, changed');
      await pause();
      chain.push(incrementalBackupLocally(root, userland, join(work, '2.tar.gz'), 2, chain));
      record();

      rmSync(join(root, 'dir-to-file'), { recursive: true });
      writeFileSync(join(root, 'dir-to-file'), 'was a folder');
      unlinkSync(join(root, 'file-to-dir'));
      mkdirSync(join(root, 'file-to-dir'));
      writeFileSync(join(root, 'file-to-dir', 'inside'), 'i');
      rmSync(join(root, 'old'), { recursive: true });
      const racyMtime = statSync(join(root, 'racy.txt')).mtime;
      writeFileSync(join(root, 'racy.txt'), 'BBBB');
      utimesSync(join(root, 'racy.txt'), racyMtime, racyMtime);
      writeFileSync(join(root, 'hl', 'a'), 'shared, changed');
      await pause();
      chain.push(incrementalBackupLocally(root, userland, join(work, '3.tar.gz'), 3, chain));
      record();

      writeFileSync(at(root, 'name\nwith newline'), 'n2');
      rmSync(at(root, 'latin\xe9'));
      writeFileSync(join(root, 'file-to-dir', 'later'), 'l');
      unlinkSync(join(root, 'link'));
      symlinkSync('nowhere', join(root, 'link'));
      // The other name of a hard-linked file goes: the one left is sent again, now a file of its own.
      unlinkSync(join(root, 'hl', 'a'));
      await pause();
      chain.push(incrementalBackupLocally(root, userland, join(work, '4.tar.gz'), 4, chain));
      record();
    });
    after(() => rmSync(work, { recursive: true, force: true }));

    for (let point = 1; point <= 4; point++) {
      it(`gives, as one tar, the volume as it was at backup ${point}: GNU and BusyBox tar extract it alike, each path once`, async () => {
        const merged = join(work, `merged-${point}.tar`);
        await pipeline(mergedChainStream(await openChain(linksOf(chain.slice(0, point)))), createWriteStream(merged));
        for (const tar of USERLANDS) {
          const dest = join(work, `merged-${point}-${tar}`);
          extract(tar, merged, dest);
          const state = states[point - 1]!;
          assert.deepEqual(treeOf(dest, listLocally(dest, 'gnu')), state.tree, `${tar} tar`);
        }
        const names = listedNames(merged, false);
        assert.equal(names.length, states[point - 1]!.entries);
        assert.ok(!names.some((n) => n.includes('.nkvm')), 'the manifest is left out');
      });

      it(`consolidates backups 1 to ${point} into one full .tar.gz that restores the same tree`, async () => {
        const target = join(work, `full-${point}.tar.gz`);
        const written = await consolidateChain(await openChain(linksOf(chain.slice(0, point))), target, { compression: 'gzip', level: 1 });
        assert.equal(written.sha256, createHash('sha256').update(readFileSync(target)).digest('hex'));
        assert.equal(written.size, statSync(target).size);
        assert.ok(!existsSync(`${target}.partial`));
        for (const tar of USERLANDS) {
          const dest = join(work, `full-${point}-${tar}`);
          extract(tar, target, dest, true);
          const state = states[point - 1]!;
          assert.deepEqual(treeOf(dest, listLocally(dest, 'gnu')), state.tree, `${tar} tar`);
        }
        const names = listedNames(target, true);
        assert.equal(names.length, states[point - 1]!.entries);
      });
    }

    it('keeps only the selected paths, each with what it holds', async () => {
      const merged = join(work, 'selected.tar');
      const opened = await openChain(linksOf(chain.slice(0, 3)));
      await pipeline(mergedChainStream(opened, { paths: ['docs', 'name\nwith newline'] }), createWriteStream(merged));
      for (const tar of USERLANDS) {
        const dest = join(work, `selected-${tar}`);
        extract(tar, merged, dest);
        const names = listLocally(dest, 'gnu').entries.map((e) => e.name).sort();
        assert.deepEqual(names, ['.', 'docs', 'docs/a.txt', 'docs/keep.txt', 'name\nwith newline']);
        assert.equal(readFileSync(join(dest, 'docs', 'a.txt'), 'utf8'), 'second, longer');
        assert.equal(statSync(join(dest, 'docs')).mode & 0o7777, 0o750);
      }
    });

    // tar stores one name of a hard-linked file as the file and the other as a link to it; which one is which
    // depends on the order the folder lists them, so each name is selected alone.
    for (const name of ['hl/a', 'hl/b']) {
      it(`gives a selected hard link (${name}) its data even when the name it links to is left out`, async () => {
        const merged = join(work, `selected-${name.replace('/', '-')}.tar`);
        await pipeline(mergedChainStream(await openChain(linksOf(chain.slice(0, 3))), { paths: [name] }), createWriteStream(merged));
        for (const tar of USERLANDS) {
          const dest = join(work, `selected-${name.replace('/', '-')}-${tar}`);
          extract(tar, merged, dest);
          assert.deepEqual(listLocally(dest, 'gnu').entries.map((e) => e.name).sort(), ['.', 'hl', name]);
          assert.equal(readFileSync(join(dest, name), 'utf8'), 'shared, changed');
        }
      });
    }

    it('refuses a chain with a missing archive, naming the backup, and writes nothing', async () => {
      const links = linksOf(chain);
      const gone = join(work, 'elsewhere.tar.gz');
      renameSync(chain[2]!.path, gone);
      try {
        await assert.rejects(openChain(links), /backup 3 \(.*3\.tar\.gz\) is missing; .*put the file back/);
      } finally {
        renameSync(gone, chain[2]!.path);
      }
    });

    it('refuses an archive whose checksum is not the one recorded, naming the backup', async () => {
      const links = linksOf(chain).map((l) => (l.id === 4 ? { ...l, sha256: 'f'.repeat(64) } : l));
      await assert.rejects(openChain(links), /backup 4 \(.*4\.tar\.gz\) does not match the checksum recorded/);
    });

    it('refuses an archive whose manifest names another base, naming that base', async () => {
      const other = join(work, 'other');
      mkdirSync(other);
      writeFileSync(join(other, 'f'), 'another volume');
      const otherChain = [fullBackupLocally(other, userland, join(work, 'other-1.tar.gz'), 1)];
      writeFileSync(join(other, 'g'), 'more');
      await pause();
      otherChain.push(incrementalBackupLocally(other, userland, join(work, 'other-2.tar.gz'), 2, otherChain));
      const mixed = linksOf([chain[0]!, otherChain[1]!]);
      await assert.rejects(openChain(mixed), /other-2\.tar\.gz builds on backup 1 \(sha256 [0-9a-f]{12}\.\.\.\), not on .*\/1\.tar\.gz/);
    });

    it('leaves no partial file when an archive turns out damaged while consolidating, and names the backup', async () => {
      const copies = chain.map((b, i) => {
        const copy = join(work, `copy-${i + 1}.tar.gz`);
        copyFileSync(b.path, copy);
        return { path: copy, id: b.ref.id, sha256: b.ref.sha256 };
      });
      const opened = await openChain(copies);
      truncateSync(copies[0]!.path, Math.floor(statSync(copies[0]!.path).size / 2));
      const target = join(work, 'damaged-full.tar.gz');
      const damaged = /backup 1 \(.*copy-1\.tar\.gz\) could not be read to the end/;
      await assert.rejects(consolidateChain(opened, target, { compression: 'gzip' }), damaged);
      assert.ok(!existsSync(target));
      assert.ok(!existsSync(`${target}.partial`));
      assert.deepEqual(readdirSync(work).filter((n) => n.startsWith('damaged')), []);
    });
  });
}
