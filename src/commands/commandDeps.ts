import type * as vscode from 'vscode';
import type { BackupFilesView } from '../browse/backupFilesView';
import type { BackupFileSystem } from '../browse/backupFileSystem';
import type { BackupController } from '../services/backupController';
import type { ClusterConnections } from '../services/clusterConnections';
import type { ExtensionSettings } from '../services/extensionSettings';
import type { HistoryService } from '../services/historyService';
import type { PastedKubeconfigs } from '../services/pastedKubeconfigs';
import type { RestoreController } from '../services/restoreController';
import type { VolumeTreeNode } from '../tree/volumeTreeNodes';
import type { VolumeTreeProvider } from '../tree/volumeTreeProvider';

/** What commands work with, handed over by `extension.ts`. */
export interface CommandDeps {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  settings: ExtensionSettings;
  connections: ClusterConnections;
  pasted: PastedKubeconfigs;
  history: HistoryService;
  backups: BackupController;
  restores: RestoreController;
  /** Backups opened as read-only folders (`nkvm-backup:`). */
  backupFiles: BackupFileSystem;
  /** The Explorer's "Backup Files" view, where windows that are not a workspace show opened backups. */
  backupFilesView: BackupFilesView;
  tree: VolumeTreeProvider;
  treeView: vscode.TreeView<VolumeTreeNode>;
  showReport(): void;
}

export interface NkvmCommand {
  id: string;
  run(deps: CommandDeps, ...args: unknown[]): unknown;
}
