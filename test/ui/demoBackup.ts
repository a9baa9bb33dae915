import * as assert from 'node:assert/strict';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { runBackups } from '../../src/core/backup/backupRun';
import { HistoryStore } from '../../src/core/history/historyStore';

/**
 * Backs up the demo claim media/archive-2019 with the engine into the workspace's default archive folder and
 * history, so a UI test starts with a backup to browse (backing up through the UI has its own test).
 */
export async function backUpArchive2019(workspace: string, kubeconfig: string): Promise<void> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfig);
  const history = await HistoryStore.open(path.join(workspace, 'data', 'backups.db'));
  try {
    const run = await runBackups([{ context: 'sandbox', namespace: 'media', pvc: 'archive-2019' }], {
      kubeConfigFor: () => kubeConfig,
      settings: { backupDir: path.join(workspace, 'backups'), helperImage: 'alpine:3.20', helperPodTimeoutSeconds: 60 },
      concurrency: 1,
      history,
    });
    assert.equal(run.results[0].status, 'success', run.results[0].message);
  } finally {
    await history.close();
  }
}
