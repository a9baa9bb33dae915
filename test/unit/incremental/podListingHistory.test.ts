import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import { readFile, writeFile } from 'node:fs/promises';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { decodePodListing, encodePodListing } from '../../../src/core/incremental/podListingCodec';
import type { PodListing } from '../../../src/core/incremental/podListing';

const listing: PodListing = {
  startedAt: { s: 1_800_000_000, ns: 5 },
  entries: [
    { name: '.', type: 'directory', size: 4096, mtime: { s: 1_799_999_000, ns: 1 }, ctime: { s: 1_799_999_000, ns: 1 }, mode: 0o755, uid: 0, gid: 0, inode: 2, links: 3 },
    { name: 'a\nb\xe9', type: 'file', size: 3, mtime: { s: 1_799_999_500, ns: 999_999_999 }, ctime: { s: 1_799_999_600, ns: 0 }, mode: 0o640, uid: 1000, gid: 1000, inode: 12, links: 1 },
    { name: 'l', type: 'symlink', size: 1, mtime: { s: 1, ns: 0 }, ctime: { s: 2, ns: 0 }, mode: 0o777, uid: 0, gid: 0, inode: 13, links: 1, linkname: 'a\nb\xe9' },
  ],
};

describe('pod listings in the history', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'nkvm-podlisting-'))));
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('keeps the listing of a backup for the next one, across reopening the file', async () => {
    const file = join(dir, 'backups.db');
    let store = await HistoryStore.open(file);
    const id = await store.append({ namespace: 'shop', pvcName: 'orders', status: 'success' });
    const encoded = encodePodListing(listing);
    await store.savePodListing({ historyId: id, recordedAt: '2027-01-15T10:00:00.000Z', entryCount: 3, sha256: encoded.sha256, listing: encoded.bytes });
    await store.close();
    store = await HistoryStore.open(file);
    const stored = await store.loadPodListing(id);
    assert.equal(stored?.sha256, encoded.sha256);
    const back = decodePodListing(stored!.listing);
    assert.deepEqual(back.entries, listing.entries);
    assert.equal(await store.loadPodListing(id + 1), undefined);
    await store.markPruned(id, new Date());
    assert.equal(await store.loadPodListing(id), undefined, 'a pruned archive is no base for an incremental backup');
    await store.close();
  });

  it('adds the table to a version 6 file and keeps its rows', async () => {
    const file = join(dir, 'backups.db');
    const store = await HistoryStore.open(file);
    await store.append({ namespace: 'shop', pvcName: 'orders', status: 'success' });
    await store.close();
    const SQL = await initSqlJs();
    const db = new SQL.Database(await readFile(file));
    db.run('DROP TABLE pod_listings');
    db.run('PRAGMA user_version = 6');
    await writeFile(file, db.export());
    db.close();
    const reopened = await HistoryStore.open(file);
    assert.equal(await reopened.count(), 1);
    const id = (await reopened.append({ namespace: 'shop', pvcName: 'orders', status: 'success' }));
    const encoded = encodePodListing(listing);
    await reopened.savePodListing({ historyId: id, recordedAt: 'now', entryCount: 3, sha256: encoded.sha256, listing: encoded.bytes });
    assert.ok(await reopened.loadPodListing(id));
    await reopened.close();
  });
});
