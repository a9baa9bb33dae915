import * as vscode from 'vscode';
import { engine } from '../services/engine';
import { backupFromArgument } from './backupArgument';
import type { NkvmCommand } from './commandDeps';

const STEPS = { check: 'checking the chain', write: 'writing the full archive', record: 'recording it in the history' } as const;

/** "Consolidate Backup": merges an incremental backup's chain into a new full backup, locally, without the cluster. */
export const consolidateBackupCommand: NkvmCommand = {
  id: 'nkvm.consolidateBackup',
  async run(deps, arg?: unknown) {
    const record = await backupFromArgument(deps, arg, 'Consolidate a Backup');
    if (!record) return undefined;
    const where = `${record.namespace}/${record.pvcName} (${new Date(record.createdAt).toLocaleString()})`;
    if (record.kind !== 'incremental') {
      throw new Error(`The backup of ${where} is already full: it restores from its own archive, so there is nothing to consolidate.`);
    }
    const history = await deps.history.open();
    const archive = deps.settings.archiveSettings();
    let result;
    try {
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Consolidating the backup of ${where}`, cancellable: true },
        (progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort(new vscode.CancellationError()));
          return engine.consolidation().consolidateBackup(history, record.id, {
            compression: archive.compression === 'none' ? 'none' : 'gzip',
            level: archive.compressionLevel,
            signal: abort.signal,
            onStep: (step) => progress.report({ message: STEPS[step] }),
          });
        },
      );
    } finally {
      deps.history.notifyChanged();
    }
    const from = result.from.map((id) => `#${id}`).join(', ');
    const made = `full backup #${result.record.id} from ${from} at ${result.record.backupPath}`;
    deps.log.info(`[consolidate] backup #${record.id} ${where}: ${made}`);
    for (const warning of result.warnings) deps.log.warn(`[consolidate] ${warning}`);
    const summary = `Backup of ${where} consolidated from ${from} into full backup #${result.record.id}: ${result.record.backupPath}`;
    if (result.warnings.length) void vscode.window.showWarningMessage(`${summary}. But ${result.warnings.join('; ')}.`);
    else void vscode.window.showInformationMessage(summary);
    return result;
  },
};
