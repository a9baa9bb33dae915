// Run as a separate process by historyConcurrency.test.ts: appends records to one history file
// while other copies of this script do the same, then prints the ids it got as JSON.
import { HistoryStore } from '../../../src/core/history/historyStore';

async function main(): Promise<void> {
  const [dbPath, worker, countText] = process.argv.slice(2);
  if (dbPath === undefined || worker === undefined || countText === undefined) {
    throw new Error('usage: appendWorker <db path> <worker name> <count>');
  }
  // Generous: on a loaded CI machine four writers of a growing file can queue for a while.
  const store = await HistoryStore.open(dbPath, { lock: { timeoutMs: 60_000 } });
  const ids: number[] = [];
  for (let i = 0; i < Number(countText); i++) {
    ids.push(
      await store.append({ runId: worker, namespace: 'load', pvcName: `${worker}-pvc-${i}`, status: 'success' }),
    );
  }
  await store.close();
  process.stdout.write(JSON.stringify(ids));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
