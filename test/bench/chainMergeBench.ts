// Restoring a chain of four (a full backup of about 200 MB, then three incremental ones) two ways: the merged
// stream of the chain piped into one `tar x` (openChain's checks included), and extracting the four archives in
// turn as ADR-003 restores by hand. `npm run bench:chain-merge [megabytes]`. Prints figures; asserts nothing.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { MANIFEST_MEMBER, pathBytes } from '../../src/core/incremental/incrementalManifest';
import { readManifest } from '../../src/core/incremental/manifestMember';
import { mergedChainStream } from '../../src/core/incremental/mergedChainStream';
import { openChain } from '../../src/core/incremental/openChain';
import { fullBackupLocally, incrementalBackupLocally, type LocalBackup } from '../unit/incremental/localChain';
import { runTar } from '../unit/incremental/localHelper';

const MEGABYTES = Number(process.argv[2] ?? 200);
const PER_FOLDER = 10;

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'nkvm-merge-bench-'));
  try {
    const root = join(work, 'volume');
    const file = (i: number) => join(root, `folder-${Math.floor(i / PER_FOLDER)}`, `file-${i}.bin`);
    for (let i = 0; i < MEGABYTES; i++) {
      mkdirSync(join(file(i), '..'), { recursive: true });
      writeFileSync(file(i), randomBytes(1024 * 1024));
    }
    const chain: LocalBackup[] = [fullBackupLocally(root, 'gnu', join(work, '1.tar.gz'), 1)];
    for (let step = 1; step <= 3; step++) {
      // Each increment rewrites a tenth of the files, deletes a few and adds as many.
      for (let i = step; i < MEGABYTES; i += 10) writeFileSync(file(i), randomBytes(1024 * 1024));
      for (let i = 0; i < 3; i++) unlinkSync(file(step * 3 + i + 5 * step));
      for (let i = 0; i < 3; i++) writeFileSync(join(root, `added-${step}-${i}.bin`), randomBytes(1024 * 1024));
      await new Promise((r) => setTimeout(r, 50));
      chain.push(incrementalBackupLocally(root, 'gnu', join(work, `${step + 1}.tar.gz`), step + 1, chain));
    }
    console.log(`chain of 4: a full backup of ${MEGABYTES} MB of random data, then 3 increments of about ${MEGABYTES / 10} MB`);

    const merged = join(work, 'merged');
    mkdirSync(merged);
    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
    const mergeStart = performance.now();
    const opened = await openChain(chain.map((b) => ({ path: b.path, id: b.ref.id, sha256: b.ref.sha256 })));
    const opening = performance.now() - mergeStart;
    const tar = spawn('tar', ['xf', '-', '-C', merged], { stdio: ['pipe', 'ignore', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => tar.on('close', resolve));
    await pipeline(mergedChainStream(opened), tar.stdin);
    if ((await exited) !== 0) throw new Error('tar x of the merged stream failed');
    const mergeMs = performance.now() - mergeStart;
    clearInterval(sampler);

    const byHand = join(work, 'by-hand');
    mkdirSync(byHand);
    const handStart = performance.now();
    for (const backup of chain) {
      const manifest = await readManifest(backup.path);
      for (const p of manifest?.deleted ?? []) {
        rmSync(Buffer.concat([Buffer.from(`${byHand}/`), Buffer.from(pathBytes(p), 'latin1')]), { recursive: true, force: true });
      }
      const x = runTar('gnu', ['xzf', backup.path, '-C', byHand, `--exclude=${MANIFEST_MEMBER}`], byHand);
      if (x.status !== 0) throw new Error(x.stderr);
    }
    const handMs = performance.now() - handStart;

    const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const rss = `peak RSS ${Math.round(peakRss / 1e6)} MB`;
    console.log(`merged stream into one tar x: ${seconds(mergeMs)} (openChain's checks ${seconds(opening)}), ${rss}`);
    console.log(`four archives extracted in turn: ${(handMs / 1000).toFixed(2)} s`);
    console.log(`ratio merged / in turn: ${(mergeMs / handMs).toFixed(2)}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
