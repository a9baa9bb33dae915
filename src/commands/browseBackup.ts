import * as vscode from 'vscode';
import { backupUri } from '../browse/backupUri';
import { backupFromArgument } from './backupArgument';
import type { NkvmCommand } from './commandDeps';

export const browseBackupCommand: NkvmCommand = {
  id: 'nkvm.browseBackup',
  async run(deps, arg?: unknown) {
    const record = await backupFromArgument(deps, arg, 'Open a Backup as a Folder');
    if (!record) return;
    const root = backupUri(record.id);
    const opened = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Reading the archive of ${record.namespace}/${record.pvcName}` },
      () => deps.backupFiles.open(record.id),
    );
    if (vscode.workspace.workspaceFile) {
      // A multi-root workspace takes one more folder in place: the Explorer lists it at once, nothing reloads.
      const folders = vscode.workspace.workspaceFolders ?? [];
      const name = `${record.pvcName} @ ${new Date(record.createdAt).toISOString().slice(0, 16).replace('T', ' ')} (backup)`;
      if (!folders.some((f) => f.uri.toString() === root.toString())) {
        let listener: vscode.Disposable | undefined;
        const added = new Promise<void>((resolve) => {
          listener = vscode.workspace.onDidChangeWorkspaceFolders((e) => e.added.some((f) => f.uri.toString() === root.toString()) && resolve());
        });
        try {
          if (!vscode.workspace.updateWorkspaceFolders(folders.length, 0, { uri: root, name })) {
            throw new Error('VS Code did not add the backup as a folder; try again once the workspace has finished loading.');
          }
          // Bounded: the folder is in the workspace file either way, and the refresh below then shows it.
          await Promise.race([added, new Promise((resolve) => setTimeout(resolve, 10_000))]);
        } finally {
          listener?.dispose();
        }
      }
      await vscode.commands.executeCommand('workbench.view.explorer');
      // The Explorer expands a root it was just given, and can show it expanded but empty; a refresh lists its files.
      await vscode.commands.executeCommand('workbench.files.action.refreshFilesExplorer');
    } else {
      // In a single-folder or empty window a second folder makes a new untitled workspace and reopens the
      // window: on the desktop the extension host restarts (stopping running backups and restores), and in a
      // browser (code-server 4.100) the reloaded page sometimes shows an empty workspace for good, because it
      // takes its folders from a configuration cache a new workspace does not have yet and drops the workspace
      // file read a moment later. So the backup opens in the Explorer's "Backup Files" view, in this window.
      await deps.backupFilesView.show(record);
    }
    deps.log.info(`[browse] opened backup #${record.id} (${opened.directory.size} entries) as ${root.toString()}`);
  },
};
