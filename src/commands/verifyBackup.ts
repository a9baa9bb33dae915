import * as vscode from 'vscode';
import { engine } from '../services/engine';
import { backupFromArgument } from './backupArgument';
import type { NkvmCommand } from './commandDeps';

export const verifyBackupCommand: NkvmCommand = {
  id: 'nkvm.verifyBackup',
  async run(deps, arg?: unknown) {
    const record = await backupFromArgument(deps, arg, 'Verify a Backup');
    if (!record) return undefined;
    const history = await deps.history.open();
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Verifying the backup of ${record.namespace}/${record.pvcName}`, cancellable: true },
      (_progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort(new vscode.CancellationError()));
        return engine.archiveVerify().verifyBackup(history, record, { signal: abort.signal });
      },
    );
    deps.history.notifyChanged();
    const where = `${record.namespace}/${record.pvcName} (${new Date(record.createdAt).toLocaleString()})`;
    deps.log.info(`[verify] backup #${record.id} ${where}: ${result.outcome} - ${result.message}`);
    if (result.outcome === 'ok') {
      void vscode.window.showInformationMessage(`Backup of ${where} is intact: ${result.message}`);
    } else {
      void vscode.window.showErrorMessage(`Backup of ${where} failed verification: ${result.message}`, { detail: record.backupPath ?? undefined } as vscode.MessageOptions);
    }
    return result;
  },
};
