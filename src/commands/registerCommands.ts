import * as vscode from 'vscode';
import { addKubeconfigCommand } from './addKubeconfig';
import { backupNamespaceCommand } from './backupNamespace';
import { backupVolumesCommand } from './backupVolumes';
import { browseBackupCommand } from './browseBackup';
import { cancelBackupsCommand } from './cancelBackups';
import { checkPermissionsCommand } from './checkPermissions';
import { closeBackupCommand } from './closeBackup';
import { consolidateBackupCommand } from './consolidateBackup';
import { CommandDeps, NkvmCommand } from './commandDeps';
import { copyChecksumCommand } from './copyChecksum';
import { exportReportCommand } from './exportReport';
import { extractFromBackupCommand } from './extractFromBackup';
import { filterNamespacesCommand } from './filterNamespaces';
import { loadMoreVolumesCommand } from './loadMoreVolumes';
import { openBackupFolderCommand } from './openBackupFolder';
import { openReportCommand } from './openReport';
import { preflightRestoreCommand } from './preflightRestore';
import { preflightVolumesCommand } from './preflightVolumes';
import { pruneBackupsCommand } from './pruneBackups';
import { refreshCommand } from './refresh';
import { removeKubeconfigCommand } from './removeKubeconfig';
import { removeLeftoverHelpersCommand } from './removeLeftoverHelpers';
import { restoreBackupCommand } from './restoreBackup';
import { restoreBackupPathsCommand } from './restoreBackupPaths';
import { revealArchiveCommand } from './revealArchive';
import { showLogCommand } from './showLog';
import { verifyBackupCommand } from './verifyBackup';
import { drillBackupCommand } from './drillBackup';

/** Every command of the extension; package.json contributes exactly these (a test checks both ways). */
export const commands: NkvmCommand[] = [
  refreshCommand,
  loadMoreVolumesCommand,
  filterNamespacesCommand,
  backupVolumesCommand,
  backupNamespaceCommand,
  preflightVolumesCommand,
  preflightRestoreCommand,
  cancelBackupsCommand,
  openReportCommand,
  exportReportCommand,
  openBackupFolderCommand,
  removeLeftoverHelpersCommand,
  revealArchiveCommand,
  copyChecksumCommand,
  browseBackupCommand,
  closeBackupCommand,
  extractFromBackupCommand,
  restoreBackupCommand,
  restoreBackupPathsCommand,
  verifyBackupCommand,
  drillBackupCommand,
  consolidateBackupCommand,
  pruneBackupsCommand,
  addKubeconfigCommand,
  checkPermissionsCommand,
  removeKubeconfigCommand,
  showLogCommand,
];

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  return commands.map((command) => vscode.commands.registerCommand(command.id, (...args: unknown[]) => runSafely(deps, command, args)));
}

/** One error path for all commands: silent on cancellation, a message with "Show Log" otherwise. */
async function runSafely(deps: CommandDeps, command: NkvmCommand, args: unknown[]): Promise<unknown> {
  try {
    return await command.run(deps, ...args);
  } catch (e) {
    if (e instanceof vscode.CancellationError || (e as Error)?.name === 'AbortError') return undefined;
    const message = e instanceof Error ? e.message : String(e);
    deps.log.error(`[${command.id}] ${e instanceof Error && e.stack ? e.stack : message}`);
    const pick = await vscode.window.showErrorMessage(message, 'Show Log');
    if (pick) deps.log.show();
    return undefined;
  }
}
