// One restore in its own process, as the extension host or `nkvm restore` runs apart from the API server:
// incrementalBench.ts bundles it as the extension is shipped and starts it with a job as JSON in argv[2];
// it answers over the IPC channel with the result and when each stage began.
import { KubeConfig } from '@kubernetes/client-node';
import { HistoryStore } from '../../src/core/history/historyStore';
import { runRestore } from '../../src/core/restore/restoreRun';
import type { RestoreRequest, RestoreResult, RestoreSettings } from '../../src/core/restore/restoreVolume';

export interface RestoreJob {
  kubeconfigPath: string;
  historyPath: string;
  backupId: number;
  request: RestoreRequest;
  settings: RestoreSettings;
}

export interface RestoreAnswer {
  result: RestoreResult;
  /** Milliseconds from the start of the restore to the first report of each stage. */
  stages: [string, number][];
  ms: number;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]!) as RestoreJob;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(job.kubeconfigPath);
  const history = await HistoryStore.open(job.historyPath);
  try {
    const backup = await history.get(job.backupId);
    if (!backup) throw new Error(`no backup #${job.backupId} in ${job.historyPath}`);
    const stages = new Map<string, number>();
    const t0 = performance.now();
    const result = await runRestore(kubeConfig, job.request, {
      settings: job.settings,
      history,
      backup,
      onProgress: (p) => stages.has(p.stage) || stages.set(p.stage, performance.now() - t0),
    });
    const answer: RestoreAnswer = { result, stages: [...stages], ms: performance.now() - t0 };
    process.send!(answer);
  } finally {
    await history.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
