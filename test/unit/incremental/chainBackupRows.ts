import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HistoryStore } from '../../../src/core/history/historyStore';
import type { PodListing } from '../../../src/core/incremental/podListing';
import { fullBackupLocally, incrementalBackupLocally, listLocally, type LocalBackup } from './localChain';
import type { Userland } from './localHelper';

/** A volume backed up three times (full, then two incremental backups), and the volume right after each backup. */
export interface LocalChainOfThree {
  readonly chain: readonly LocalBackup[];
  /** The volume at backup 1, 2 and 3: sorted `[path, type, mode, content or link target]` rows. */
  readonly states: readonly string[][];
}

/**
 * #1: docs/a.txt, keep.txt (never changes), mode.txt, old.txt, gone/x.txt, link -> keep.txt.
 * #2: docs/a.txt rewritten, new.txt added, old.txt and gone/ deleted, link -> docs/a.txt.
 * #3: new.txt deleted, docs/b.txt added, mode.txt made private (0600).
 */
export function buildChainOfThree(work: string, userland: Userland): LocalChainOfThree {
  const root = join(work, 'volume');
  mkdirSync(join(root, 'docs'), { recursive: true });
  mkdirSync(join(root, 'gone'));
  writeFileSync(join(root, 'docs', 'a.txt'), 'first');
  writeFileSync(join(root, 'keep.txt'), 'never changes');
  writeFileSync(join(root, 'old.txt'), 'to be deleted');
  writeFileSync(join(root, 'gone', 'x.txt'), 'in a folder that goes');
  writeFileSync(join(root, 'mode.txt'), 'mode changes');
  symlinkSync('keep.txt', join(root, 'link'));
  const chain: LocalBackup[] = [];
  const states: string[][] = [];
  chain.push(fullBackupLocally(root, userland, join(work, '1.tar.gz'), 1));
  states.push(volumeState(root, chain[0]!.listing));
  writeFileSync(join(root, 'docs', 'a.txt'), 'second version');
  writeFileSync(join(root, 'new.txt'), 'added');
  rmSync(join(root, 'old.txt'));
  rmSync(join(root, 'gone'), { recursive: true });
  rmSync(join(root, 'link'));
  symlinkSync('docs/a.txt', join(root, 'link'));
  chain.push(incrementalBackupLocally(root, userland, join(work, '2.tar.gz'), 2, chain));
  states.push(volumeState(root, chain[1]!.listing));
  rmSync(join(root, 'new.txt'));
  writeFileSync(join(root, 'docs', 'b.txt'), 'third');
  chmodSync(join(root, 'mode.txt'), 0o600);
  chain.push(incrementalBackupLocally(root, userland, join(work, '3.tar.gz'), 3, chain));
  states.push(volumeState(root, chain[2]!.listing));
  return { chain, states };
}

/** The tree of a folder (a volume, or a restore of it) as comparable rows. */
export function treeState(root: string): string[] {
  return volumeState(root, listLocally(root, 'gnu'));
}

function volumeState(root: string, listing: PodListing): string[] {
  return listing.entries
    .filter((e) => e.name !== '.')
    .map((e) => {
      const name = e.name.replace(/^\.\//, '');
      const detail = e.type === 'file' ? readFileSync(join(root, name), 'utf8') : (e.linkname ?? '');
      return JSON.stringify([name, e.type, e.mode.toString(8), detail]);
    })
    .sort();
}

/** A fresh history in `folder` recording copies of the chain's archives as backups 1, 2, 3 of prod/shop/orders. */
export async function chainHistory(folder: string, chain: readonly LocalBackup[]): Promise<HistoryStore> {
  const history = await HistoryStore.open(join(folder, 'backups.db'));
  for (const [index, backup] of chain.entries()) {
    const archive = join(folder, `orders-${index + 1}.tar.gz`);
    copyFileSync(backup.path, archive);
    const kind = index === 0 ? {} : { kind: 'incremental' as const, baseId: index };
    const id = await history.append({
      context: 'prod', namespace: 'shop', pvcName: 'orders', status: 'success', backupPath: archive,
      checksum: backup.ref.sha256, sizeBytes: statSync(archive).size, createdAt: `2026-03-0${index + 1}T10:00:00.000Z`, ...kind,
    });
    assert.equal(id, backup.ref.id);
  }
  return history;
}

export function caseFolder(work: string): string {
  return mkdtempSync(join(work, 'case-'));
}
