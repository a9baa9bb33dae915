// Run as a separate process by interruptedRows.test.ts: starts a backup row, records the stage it
// reached, prints the row id, then keeps running until the test ends it.
import { HistoryStore } from '../../../src/core/history/historyStore';

async function main(): Promise<void> {
  const [dbPath, pvcName] = process.argv.slice(2);
  if (dbPath === undefined || pvcName === undefined) {
    throw new Error('usage: runningRowWriter <db path> <pvc name>');
  }
  const store = await HistoryStore.open(dbPath);
  const id = await store.append({ runId: 'run-1', context: 'dev', namespace: 'shop', pvcName, status: 'running', stage: 'create' });
  await store.update(id, { stage: 'copy' });
  process.stdout.write(`${id}\n`);
  setInterval(() => undefined, 60_000); // Stays "mid-copy" until killed.
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
