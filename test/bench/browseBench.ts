// Times opening a large archive for browsing: `npm run bench:browse -- [entries]` (default 50,000).
// The first open reads the whole archive and saves its listing in the history; the second open, from
// a freshly opened history as another window would do, loads the saved listing. Prints figures only.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { openArchiveIndex } from '../../src/core/archive/openArchiveIndex';
import { HistoryStore } from '../../src/core/history/historyStore';

const ENTRIES = Number(process.argv[2] ?? 50_000);

/** Real tar bytes: 1 folder per 100 files, each file a short text, the shape of an app's data volume. */
async function writeLargeArchive(file: string): Promise<void> {
  const packer = pack();
  const writing = pipeline(packer, createGzip({ level: 6 }), createWriteStream(file));
  const mtime = new Date('2026-01-01T00:00:00Z');
  let written = 0;
  for (let folder = 0; written < ENTRIES; folder++) {
    packer.entry({ name: `./data/shard-${String(folder).padStart(4, '0')}/`, type: 'directory', mode: 0o755, mtime });
    written++;
    for (let i = 0; i < 99 && written < ENTRIES; i++, written++) {
      const content = `record ${folder}-${i}\n`.repeat(1 + (i % 7));
      await new Promise<void>((resolve, reject) =>
        packer.entry({ name: `./data/shard-${String(folder).padStart(4, '0')}/item-${String(i).padStart(3, '0')}.json`, mode: 0o644, mtime }, content, (e) => (e ? reject(e) : resolve())),
      );
    }
  }
  packer.finalize();
  await writing;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = process.hrtime.bigint();
  const value = await work();
  return { value, ms: Number(process.hrtime.bigint() - start) / 1e6 };
}

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'nkvm-browse-bench-'));
  try {
    const archive = path.join(root, 'large.tar.gz');
    const dbPath = path.join(root, 'data', 'backups.db');
    const made = await timed(() => writeLargeArchive(archive));
    const history = await HistoryStore.open(dbPath);
    const id = await history.append({ namespace: 'bench', pvcName: 'large', status: 'success', backupPath: archive });
    const record = (await history.get(id))!;

    const first = await timed(() => openArchiveIndex(history, record));
    await history.close();

    // A new store, as a second window or the command line would have: includes reading the history file.
    const second = await timed(async () => {
      const reopened = await HistoryStore.open(dbPath);
      try {
        return await openArchiveIndex(reopened, record);
      } finally {
        await reopened.close();
      }
    });
    const saved = await HistoryStore.open(dbPath);
    const blob = (await saved.loadArchiveIndex(id))!.entries.length;
    await saved.close();

    const row = (label: string, value: string): void => console.log(`${label.padEnd(44)} ${value}`);
    row('entries in the archive', String(first.value.index.entries.length));
    row('archive size', `${((await stat(archive)).size / 1024 / 1024).toFixed(1)} MiB (made in ${made.ms.toFixed(0)} ms)`);
    row(`first open (${first.value.source})`, `${first.ms.toFixed(0)} ms`);
    row(`second open (${second.value.source}, history reopened)`, `${second.ms.toFixed(0)} ms`);
    row('ratio first / second', `${(first.ms / second.ms).toFixed(1)}x`);
    row('saved listing in the history', `${(blob / 1024).toFixed(0)} KiB (${(blob / first.value.index.entries.length).toFixed(1)} bytes per entry)`);
    row('history file', `${((await stat(dbPath)).size / 1024).toFixed(0)} KiB`);
    row('goal: second open under 1 s', second.ms < 1000 ? 'met' : 'NOT met');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
