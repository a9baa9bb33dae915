import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { verifyArchive, verifyBackup } from '../../../src/core/archive/verifyArchive';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { gzipFile, systemTarGz, tarBytes } from './craftedArchive';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('verifyArchive', function () {
  this.timeout(20_000);
  let root: string;
  let archive: string;
  let bytes: Buffer;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'nkvm-verify-'));
    const volume = path.join(root, 'volume');
    await mkdir(path.join(volume, 'data'), { recursive: true });
    // Varied content so that deflate keeps many bytes and a flipped byte lands in real data.
    await writeFile(path.join(volume, 'data', 'random.bin'), Buffer.from(Array.from({ length: 60_000 }, (_, i) => (i * 7919) % 251)));
    await writeFile(path.join(volume, 'data', 'tail.txt'), 'last file\n');
    archive = path.join(root, 'volume.tar.gz');
    systemTarGz(volume, archive);
    bytes = await readFile(archive);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('accepts an intact archive with the recorded checksum and size', async () => {
    const result = await verifyArchive(archive, { sha256: sha256(bytes), sizeBytes: bytes.length });
    assert.equal(result.outcome, 'ok', result.message);
    assert.equal(result.entries, 4);
    assert.match(result.message, /checksum matches/);
  });

  it('catches a single flipped byte in the middle of the archive', async () => {
    const damaged = Buffer.from(bytes);
    damaged[Math.floor(damaged.length / 2)]! ^= 0x01;
    await writeFile(archive, damaged);
    const result = await verifyArchive(archive, { sha256: sha256(bytes), sizeBytes: bytes.length });
    assert.notEqual(result.outcome, 'ok');
    assert.equal(result.outcome, 'damaged', result.message);
    // Which layer notices first depends on where the byte lands (gzip's CRC or the tar headers it garbles), and
    // where it is noticed on how zlib hands its output over: a CRC error can come before tar has seen an entry.
    assert.match(result.message, /damaged (gzip data|tar structure) (before the first entry|after entry .*) .*checksum differs too/);
  });

  it('names a missing file and a changed size', async () => {
    assert.equal((await verifyArchive(path.join(root, 'gone.tar.gz'), {})).outcome, 'missing');
    await writeFile(archive, bytes.subarray(0, bytes.length - 100));
    const result = await verifyArchive(archive, { sizeBytes: bytes.length });
    assert.equal(result.outcome, 'size-differs');
    assert.match(result.message, new RegExp(`${bytes.length - 100} bytes; the backup wrote ${bytes.length}`));
  });

  it('reports a checksum that differs on an archive that reads fine', async () => {
    const result = await verifyArchive(archive, { sha256: 'ab'.repeat(32) });
    assert.equal(result.outcome, 'checksum-differs');
    assert.equal(result.sha256, sha256(bytes));
  });

  it('says a tar cut at an entry boundary is damaged even though the gzip is whole', async () => {
    const tar = await tarBytes([
      { header: { name: './one.txt', type: 'file' }, content: 'one' },
      { header: { name: './two.txt', type: 'file' }, content: 'two' },
    ]);
    await writeFile(archive, gzipFile(tar.subarray(0, 512 * 2))); // header and data of one.txt only
    const result = await verifyArchive(archive, {});
    assert.equal(result.outcome, 'damaged');
    assert.match(result.message, /without its end-of-archive blocks after entry \.\/one\.txt/);
  });

  it('names the entry after which the tar structure breaks', async () => {
    const tar = await tarBytes([
      { header: { name: './one.txt', type: 'file' }, content: 'one' },
      { header: { name: './two.txt', type: 'file' }, content: 'two' },
    ]);
    tar[1024 + 10] ^= 0xff; // inside the second header: its checksum no longer matches
    await writeFile(archive, gzipFile(tar));
    const result = await verifyArchive(archive, {});
    assert.equal(result.outcome, 'damaged');
    assert.match(result.message, /damaged tar structure after entry \.\/one\.txt/);
  });

  it('saves the outcome on the history row', async () => {
    const history = await HistoryStore.open(path.join(root, 'data', 'backups.db'));
    try {
      const id = await history.append({
        namespace: 'shop',
        pvcName: 'orders',
        status: 'success',
        backupPath: archive,
        checksum: sha256(bytes),
        sizeBytes: bytes.length,
      });
      await verifyBackup(history, (await history.get(id))!);
      let row = (await history.get(id))!;
      assert.equal(row.verifyOutcome, 'ok');
      assert.ok(row.verifiedAt);

      const damaged = Buffer.from(bytes);
      damaged[bytes.length - 20]! ^= 0x40;
      await writeFile(archive, damaged);
      await verifyBackup(history, row);
      row = (await history.get(id))!;
      assert.notEqual(row.verifyOutcome, 'ok');
      assert.match(row.verifyMessage ?? '', /damaged|checksum/);
    } finally {
      await history.close();
    }
  });
});
