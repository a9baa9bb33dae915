import assert from 'node:assert/strict';
import { chmodSync, chownSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectChanges, topmost } from '../../../src/core/incremental/changeSelection';
import { compareListings, timeResolutionNs } from '../../../src/core/incremental/listingChanges';
import { planIncrement } from '../../../src/core/incremental/incrementalPlan';
import { parsePodListing, type ListedEntry, type PodListing } from '../../../src/core/incremental/podListing';
import { podListingCommand } from '../../../src/core/incremental/podListingCommand';
import { runHelperCommand } from './localHelper';

const list = (root: string): PodListing => {
  const run = runHelperCommand(podListingCommand(), root, 'busybox');
  assert.equal(run.status, 0, run.stderr);
  return parsePodListing(run.stdout);
};
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('change detection between two listings of a volume', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'nkvm-changes-'));
    mkdirSync(join(root, 'keep'));
    mkdirSync(join(root, 'gone', 'inner'), { recursive: true });
    for (const name of ['same', 'grow', 'touched', 'modes', 'owner', 'becomes-dir', 'deleted']) writeFileSync(join(root, 'keep', name), name);
    writeFileSync(join(root, 'gone', 'inner', 'f'), 'f');
    mkdirSync(join(root, 'becomes-file'));
    writeFileSync(join(root, 'becomes-file', 'child'), 'c');
    symlinkSync('same', join(root, 'keep', 'link'));
    writeFileSync(join(root, 'linked'), 'two names');
    linkSync(join(root, 'linked'), join(root, 'keep', 'linked-too'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('tells unchanged, changed (and why), new, type-changed and deleted entries apart', async () => {
    // Past the clock tick of the writes above, so that no file is racy in the base listing.
    await pause(50);
    const base = list(root);
    writeFileSync(join(root, 'keep', 'grow'), 'grown larger');
    const t = new Date('2030-01-01T00:00:00Z');
    utimesSync(join(root, 'keep', 'touched'), t, t);
    chmodSync(join(root, 'keep', 'modes'), 0o600);
    if (process.getuid?.() === 0) chownSync(join(root, 'keep', 'owner'), 1234, 1234);
    unlinkSync(join(root, 'keep', 'link'));
    symlinkSync('grow', join(root, 'keep', 'link'));
    rmSync(join(root, 'keep', 'becomes-dir'));
    mkdirSync(join(root, 'keep', 'becomes-dir'));
    rmSync(join(root, 'becomes-file'), { recursive: true });
    writeFileSync(join(root, 'becomes-file'), 'now a file');
    rmSync(join(root, 'keep', 'deleted'));
    rmSync(join(root, 'gone'), { recursive: true });
    writeFileSync(join(root, 'keep', 'added'), 'new');
    const next = list(root);

    const changes = compareListings(base, next);
    const reasons = Object.fromEntries(changes.changed.map((c) => [c.entry.name, [...c.reasons].sort()]));
    assert.deepEqual(reasons['keep/grow'], ['ctime', 'mtime', 'size']);
    assert.deepEqual(reasons['keep/touched'], ['ctime', 'mtime']);
    assert.deepEqual(reasons['keep/modes'], ['ctime', 'mode']);
    if (process.getuid?.() === 0) assert.deepEqual(reasons['keep/owner'], ['ctime', 'owner']);
    assert.ok(reasons['keep/link']!.includes('link'), 'a symlink with another target');
    assert.ok(reasons['keep'], 'a folder whose entries came and went');
    assert.equal(reasons['keep/same'], undefined);
    assert.equal(reasons['linked'], undefined);
    assert.deepEqual(changes.added.map((e) => e.name), ['keep/added']);
    assert.deepEqual(changes.typeChanged.map((e) => e.name).sort(), ['becomes-file', 'keep/becomes-dir']);
    assert.deepEqual([...changes.deleted].sort(), ['becomes-file/child', 'gone', 'gone/inner', 'gone/inner/f', 'keep/deleted']);
    assert.equal(changes.unchanged, next.entries.length - changes.changed.length - changes.added.length - changes.typeChanged.length);

    const selection = selectChanges(changes, next);
    assert.deepEqual([...selection.removed].sort(), ['becomes-file', 'gone', 'keep/becomes-dir', 'keep/deleted'], 'a removed folder takes what it holds');
    assert.ok(!selection.names.includes('keep/same'));
    assert.ok(selection.names.includes('keep/becomes-dir') && selection.names.includes('becomes-file'));
  });

  it('sends every name of a hard-linked file when one of them changed, its bytes once', async () => {
    await pause(50);
    const base = list(root);
    writeFileSync(join(root, 'linked'), 'two names, longer');
    const next = list(root);
    const selection = selectChanges(compareListings(base, next), next);
    const files = selection.names.filter((n) => n.includes('linked'));
    assert.deepEqual(files.sort(), ['keep/linked-too', 'linked']);
    const size = next.entries.find((e) => e.name === 'linked')!.size;
    assert.equal(selection.sentBytes, size);
  });

  it('finds nothing to send when nothing changed', async () => {
    await pause(50);
    const base = list(root);
    const next = list(root);
    const changes = compareListings(base, next);
    assert.deepEqual([changes.changed, changes.added, changes.typeChanged, changes.deleted], [[], [], [], []]);
    assert.equal(changes.unchanged, next.entries.length);
  });

  it('leaves fifos out, as backups do: a file that became one is deleted', async function () {
    if (process.getuid?.() !== 0) this.skip();
    await pause(50);
    const base = list(root);
    rmSync(join(root, 'keep', 'same'));
    runHelperCommand(['sh', '-c', 'cd /data || exit 2\nmkfifo keep/same'], root, 'gnu');
    const changes = compareListings(base, list(root));
    assert.deepEqual(changes.deleted, ['keep/same']);
    assert.ok(!changes.added.some((e) => e.name === 'keep/same'));
  });
});

describe('racy entries: a file written in the clock tick the base listing started in', () => {
  const file = (name: string, s: number, ns = 0): ListedEntry => ({
    name, type: 'file', size: 5, mtime: { s, ns }, ctime: { s, ns }, mode: 0o644, uid: 0, gid: 0, inode: 1, links: 1,
  });

  it('counts as changed when the file system keeps seconds and the write fell in the listing\'s second', () => {
    const base: PodListing = { startedAt: { s: 1000, ns: 0 }, entries: [file('same-second', 1000), file('before', 998), file('future', 2000)] };
    assert.equal(timeResolutionNs(base), 1_000_000_000);
    const changes = compareListings(base, { startedAt: { s: 1010, ns: 0 }, entries: base.entries });
    assert.deepEqual(changes.changed.map((c) => [c.entry.name, c.reasons]), [['same-second', ['racy']], ['future', ['racy']]]);
    assert.equal(changes.unchanged, 1, 'a file last written two seconds before the listing is trusted');
  });

  it('goes by the volume\'s resolution, not that of the helper\'s own folder where the start time is stamped', () => {
    const base: PodListing = { startedAt: { s: 1000, ns: 800_000_000 }, entries: [file('same-second', 1000)] };
    assert.equal(timeResolutionNs(base), 1_000_000_000);
    assert.deepEqual(compareListings(base, base).changed.map((c) => c.reasons), [['racy']]);
  });

  it('counts as changed within one clock tick where the file system keeps nanoseconds', () => {
    const base: PodListing = {
      startedAt: { s: 1000, ns: 5_000_000 },
      entries: [file('in-tick', 999, 996_000_000), file('two-ticks-before', 999, 990_000_000)],
    };
    const changes = compareListings(base, { startedAt: { s: 1010, ns: 0 }, entries: base.entries });
    assert.deepEqual(changes.changed.map((c) => c.entry.name), ['in-tick']);
  });
});

describe('removal lists', () => {
  it('keep only the names outside every other removed folder', () => {
    assert.deepEqual(topmost(['a', 'a/b', 'ab', 'c/d', 'c/d/e/f', 'x/y']), ['a', 'ab', 'c/d', 'x/y']);
  });
});

describe('ctime on a volume read through a copy', () => {
  const entry = (name: string, inode: number, ctime: number, type: ListedEntry['type'] = 'file'): ListedEntry => ({
    name, type, size: 5, mtime: { s: 500, ns: 0 }, ctime: { s: ctime, ns: 0 }, mode: 0o644, uid: 0, gid: 0, inode, links: 1,
  });
  const base: PodListing = { startedAt: { s: 1000, ns: 0 }, entries: [entry('.', 2, 900, 'directory'), entry('a', 10, 900), entry('b', 11, 900)] };

  it('compares ctime when both listings read the volume itself: a change that put mtime back is still seen', () => {
    const next: PodListing = { startedAt: { s: 2000, ns: 0 }, entries: [entry('.', 2, 900, 'directory'), entry('a', 10, 1500), entry('b', 11, 900)] };
    assert.deepEqual(compareListings(base, next).changed.map((c) => [c.entry.name, c.reasons]), [['a', ['ctime']]]);
  });

  it('leaves ctime out when a snapshot was read through a copy, whose ctimes are the copy\'s and whose inodes may be reused', () => {
    const copy: PodListing = { startedAt: { s: 2000, ns: 0 }, entries: [entry('.', 2, 1990, 'directory'), entry('a', 10, 1990), entry('b', 41, 1990)] };
    const changes = compareListings(base, copy, { ctime: false });
    assert.deepEqual(changes.changed.map((c) => c.entry.name), [], 'size, mtime, mode, owner and link are all as they were');
    assert.equal(changes.unchanged, 3);
    const plan = planIncrement({ chain: [{ id: 1, sha256: 'a'.repeat(64) }], listing: base, readLive: false }, copy);
    assert.equal(plan.selection.names.length, 0, 'a plan on a snapshot base compares without ctime');
  });
});
