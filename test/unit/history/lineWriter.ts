// Run as a separate process by historyLiveness.test.ts: appends records one by one and prints each
// id on its own line as soon as the store reported it saved, so a test can pause or kill it at
// any point and still know which records it was told were written.
import { HistoryStore } from '../../../src/core/history/historyStore';

async function main(): Promise<void> {
  const [dbPath, name, countText, staleText, timeoutText] = process.argv.slice(2);
  if (dbPath === undefined || name === undefined || countText === undefined || staleText === undefined || timeoutText === undefined) {
    throw new Error('usage: lineWriter <db path> <name> <count> <stale ms> <lock timeout ms>');
  }
  const store = await HistoryStore.open(dbPath, { lock: { timeoutMs: Number(timeoutText), staleMs: Number(staleText) } });
  for (let i = 0; i < Number(countText); i++) {
    const id = await store.append({ runId: name, namespace: 'load', pvcName: `${name}-pvc-${i}`, status: 'success' });
    process.stdout.write(`${id}\n`);
  }
  await store.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
