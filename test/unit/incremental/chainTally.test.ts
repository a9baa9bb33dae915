import assert from 'node:assert/strict';
import {
  chmodSync, chownSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { mergedChainStream } from '../../../src/core/incremental/mergedChainStream';
import { openChain, type ChainLink, type OpenedChain } from '../../../src/core/incremental/openChain';
import { ArchiveTallyStream, type ArchiveTally } from '../../../src/core/restore/archiveTally';
import { chainTally, memberPaths } from '../../../src/core/restore/chainTally';
import { fullBackupLocally, incrementalBackupLocally, type LocalBackup } from './localChain';
import type { Userland } from './localHelper';

const at = (root: string, name: string): Buffer => Buffer.concat([Buffer.from(`${root}/`), Buffer.from(name, 'latin1')]);
const pause = () => new Promise((r) => setTimeout(r, 50));
const USERLANDS: Userland[] = ['busybox', 'gnu'];
const LONG = `deep/${'d'.repeat(120)}/${'f'.repeat(110)}.txt`;
const linksOf = (chain: readonly LocalBackup[]): ChainLink[] => chain.map((b) => ({ path: b.path, id: b.ref.id, sha256: b.ref.sha256 }));

/** Paths as a user selects them (UTF-8 strings), every way the merge and the tally must agree on. */
const SELECTIONS: (string[] | undefined)[] = [
  undefined,
  [],
  [''],
  ['docs'],
  ['./docs/a.txt', 'name\nwith newline'],
  ['hl/a'],
  ['hl/b'],
  ['hl'],
  [LONG.split('/').slice(0, 2).join('/')],
  ['sg'],
  ['link', 'file-to-dir'],
  ['latin\u00e9', 'nothing-here'],
];

/** What ArchiveTallyStream counts of the merged tar: the restore's tally before it could be computed from headers. */
async function streamedTally(opened: OpenedChain, paths: string[] | undefined): Promise<ArchiveTally> {
  const selected = memberPaths(paths);
  const tally = new ArchiveTallyStream(paths ?? [], false);
  await pipeline(mergedChainStream(opened, selected ? { paths: selected } : {}), tally.input);
  return tally.result;
}

for (const userland of USERLANDS) {
  describe(`counting a chain's restore from the headers read while opening it (helper with ${userland} tools)`, function () {
    this.timeout(120_000);
    let work: string;
    let root: string;
    const chain: LocalBackup[] = [];

    before(async () => {
      work = mkdtempSync(join(tmpdir(), 'nkvm-chain-tally-'));
      root = join(work, 'volume');
      mkdirSync(join(root, 'docs'), { recursive: true });
      mkdirSync(join(root, 'dir-to-file'));
      mkdirSync(join(root, 'hl'));
      mkdirSync(join(root, 'sg'));
      mkdirSync(join(root, LONG, '..'), { recursive: true });
      chmodSync(join(root, 'sg'), 0o2775);
      writeFileSync(join(root, 'sg', 'inside'), 'in a setgid folder');
      writeFileSync(join(root, 'docs', 'a.txt'), 'first');
      writeFileSync(join(root, 'docs', 'keep.txt'), 'never changes');
      chownSync(join(root, 'docs', 'keep.txt'), 1000, 1000);
      writeFileSync(join(root, 'dir-to-file', 'child'), 'c');
      writeFileSync(join(root, 'file-to-dir'), 'f');
      writeFileSync(join(root, 'setuid'), '#!/bin/sh\n');
      chmodSync(join(root, 'setuid'), 0o4755);
      writeFileSync(at(root, 'name\nwith newline'), 'n1');
      writeFileSync(at(root, 'latin\xe9'), 'l');
      writeFileSync(join(root, 'hl', 'a'), 'shared');
      linkSync(join(root, 'hl', 'a'), join(root, 'hl', 'b'));
      writeFileSync(join(root, LONG), 'long name');
      symlinkSync('docs/a.txt', join(root, 'link'));
      await pause();
      chain.push(fullBackupLocally(root, userland, join(work, '1.tar.gz'), 1));

      writeFileSync(join(root, 'docs', 'a.txt'), 'second, longer');
      chmodSync(join(root, 'docs'), 0o750);
      unlinkSync(join(root, 'link'));
      symlinkSync('docs/keep.txt', join(root, 'link'));
      writeFileSync(join(root, LONG), 'long name, changed');
      writeFileSync(join(root, 'sg', 'new'), 'new in the setgid folder');
      await pause();
      chain.push(incrementalBackupLocally(root, userland, join(work, '2.tar.gz'), 2, chain));

      rmSync(join(root, 'dir-to-file'), { recursive: true });
      writeFileSync(join(root, 'dir-to-file'), 'was a folder');
      unlinkSync(join(root, 'file-to-dir'));
      mkdirSync(join(root, 'file-to-dir'));
      writeFileSync(join(root, 'file-to-dir', 'inside'), 'i');
      writeFileSync(join(root, 'hl', 'a'), 'shared, changed');
      chmodSync(join(root, 'sg'), 0o3777);
      await pause();
      chain.push(incrementalBackupLocally(root, userland, join(work, '3.tar.gz'), 3, chain));

      writeFileSync(at(root, 'name\nwith newline'), 'n2');
      rmSync(at(root, 'latin\xe9'));
      unlinkSync(join(root, 'link'));
      symlinkSync('nowhere', join(root, 'link'));
      // One name of the hard-linked file goes: the other is sent again as a file of its own.
      unlinkSync(join(root, 'hl', 'a'));
      await pause();
      chain.push(incrementalBackupLocally(root, userland, join(work, '4.tar.gz'), 4, chain));
    });
    after(() => rmSync(work, { recursive: true, force: true }));

    for (let point = 2; point <= 4; point++) {
      it(`counts backups 1 to ${point} exactly as reading the merged tar does, for every selection`, async () => {
        const opened = await openChain(linksOf(chain.slice(0, point)));
        for (const paths of SELECTIONS) {
          const computed = chainTally(opened, paths);
          assert.ok(computed, `tar ${userland} headers are counted without a merge`);
          const streamed = await streamedTally(opened, paths);
          const label = `paths ${JSON.stringify(paths)}`;
          assert.deepEqual({ ...computed, sha256: '' }, { ...streamed, sha256: '' }, label);
          assert.equal(computed.sha256, chain[point - 1]!.ref.sha256, `${label}: the backup's own checksum`);
        }
        // Not a comparison of two empty tallies: the whole volume has files, special modes and two owners.
        const whole = chainTally(opened, undefined)!;
        assert.ok(whole.files >= 10 && whole.modes.some((m) => m.mode & 0o2000) && whole.owners.length === 2, JSON.stringify(whole.owners));
        assert.ok(whole.fileNames.some((n) => n.length > 200), 'a long name is counted whole');
      });
    }

    it('fails the merge, naming the backup, when an archive was replaced after the chain was opened', async () => {
      const copies = chain.map((b, i) => {
        const copy = join(work, `replaced-${i + 1}.tar.gz`);
        writeFileSync(copy, readFileSync(b.path));
        return { path: copy, id: b.ref.id, sha256: b.ref.sha256 };
      });
      const opened = await openChain(copies);
      const counted = chainTally(opened, undefined);
      // The same tar, compressed again: every entry as counted, only the file's bytes differ.
      writeFileSync(copies[1]!.path, gzipSync(gunzipSync(readFileSync(copies[1]!.path)), { level: 1 }));
      const tally = new ArchiveTallyStream([], false);
      await assert.rejects(
        pipeline(mergedChainStream(opened), tally.input),
        /backup 2 \(.*replaced-2\.tar\.gz\) changed while the chain was read \(sha256 [0-9a-f]{12}\.\.\. when opened/,
      );
      assert.ok(counted);
    });
  });
}
