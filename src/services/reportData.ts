import type { ReportDataSource } from '../report/reportDataSource';
import type { BackupController } from './backupController';
import type { HistoryService } from './historyService';

/** The report's view of the services: the latest run of this window and the shared history. */
export function reportDataSource(backups: BackupController, history: HistoryService): ReportDataSource {
  return {
    latestRun: () => backups.latestRun(),
    onDidChangeRun: backups.onDidChangeRun,
    onDidChangeHistory: history.onDidChange,
    async queryHistory(query) {
      const store = await history.open();
      const [rows, total] = await Promise.all([store.latest(query), store.count(query)]);
      return { rows, total };
    },
    async pvcSeries(context, namespace, pvc) {
      return (await history.open()).forPvc(context, namespace, pvc, 200);
    },
  };
}
