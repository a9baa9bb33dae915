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
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (!folders.some((f) => f.uri.toString() === root.toString())) {
      const name = `${record.pvcName} @ ${new Date(record.createdAt).toISOString().slice(0, 16).replace('T', ' ')} (backup)`;
      if (!vscode.workspace.updateWorkspaceFolders(folders.length, 0, { uri: root, name })) {
        throw new Error('VS Code did not add the backup as a folder; try again once the workspace has finished loading.');
      }
    }
    deps.log.info(`[browse] opened backup #${record.id} (${opened.directory.size} entries) as ${root.toString()}`);
    await vscode.commands.executeCommand('workbench.view.explorer');
  },
};
