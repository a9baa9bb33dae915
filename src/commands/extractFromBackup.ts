import * as vscode from 'vscode';
import { BACKUP_SCHEME, parseBackupUri } from '../browse/backupUri';
import { engine } from '../services/engine';
import type { NkvmCommand } from './commandDeps';

/** The archive paths of the resources selected in the Explorer, all from one backup. */
export function selectedArchivePaths(uri: unknown, selected: unknown): { historyId: number; paths: string[] } {
  const uris = (Array.isArray(selected) && selected.length ? selected : [uri]).filter((u): u is vscode.Uri => u instanceof vscode.Uri && u.scheme === BACKUP_SCHEME);
  if (!uris.length) throw new Error('Select files or folders of a backup opened with "Open Backup as Folder" (the Explorer or its "Backup Files" view).');
  const locations = uris.map(parseBackupUri);
  const historyId = locations[0].historyId;
  if (locations.some((l) => l.historyId !== historyId)) throw new Error('Select files of one backup at a time.');
  // The root selects everything: an empty list means the whole archive.
  const paths = locations.some((l) => l.path === '') ? [] : locations.map((l) => l.path);
  return { historyId, paths };
}

export const extractFromBackupCommand: NkvmCommand = {
  id: 'nkvm.extractFromBackup',
  async run(deps, uri?: unknown, selected?: unknown) {
    const { historyId, paths } = selectedArchivePaths(uri, selected);
    const { record } = await deps.backupFiles.open(historyId);
    const store = await deps.history.open();
    const [dest] =
      (await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        canSelectMany: false,
        openLabel: 'Extract Here',
        title: `Extract ${paths.length ? `${paths.length} selected item(s)` : 'the whole backup'} of ${record.namespace}/${record.pvcName}`,
      })) ?? [];
    if (!dest) return;
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Extracting from the backup of ${record.pvcName}`, cancellable: true },
      (_progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort(new vscode.CancellationError()));
        return engine.backupExtract().extractBackup(store, record, dest.fsPath, { paths, signal: abort.signal });
      },
    );
    deps.log.info(`[extract] backup #${historyId} -> ${dest.fsPath}: ${result.written} written, ${result.refused.length} refused`);
    for (const r of result.refused) deps.log.warn(`[extract] refused ${r.path}: ${r.reason}`);
    const summary = `Extracted ${result.written} item(s) to ${dest.fsPath}.`;
    if (result.refused.length) {
      const pick = await vscode.window.showWarningMessage(
        `${summary} ${result.refused.length} unsafe entr${result.refused.length === 1 ? 'y was' : 'ies were'} refused (first: ${result.refused[0].path}: ${result.refused[0].reason}).`,
        'Show Log',
      );
      if (pick) deps.log.show();
    } else {
      void vscode.window.showInformationMessage(summary);
    }
  },
};
