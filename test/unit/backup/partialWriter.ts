// Run as a separate process by abandonedPartials.test.ts: starts writing an archive the way a
// backup does, prints its partial path once bytes are on disk, then stays "mid-copy" until ended.
import { PartialArchive } from '../../../src/core/backup/partialArchive';

async function main(): Promise<void> {
  const [finalPath] = process.argv.slice(2);
  if (finalPath === undefined) {
    throw new Error('usage: partialWriter <final archive path>');
  }
  const archive = await PartialArchive.create(finalPath);
  const stream = archive.writable();
  await new Promise<void>((resolve, reject) => stream.write(Buffer.alloc(64 * 1024, 1), (error) => (error ? reject(error) : resolve())));
  process.stdout.write(`${archive.partialPath}\n`);
  setInterval(() => undefined, 60_000);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
