import * as vscode from 'vscode';
import { BackupDecorations } from './browse/backupDecorations';
import { BackupFilesView } from './browse/backupFilesView';
import { BackupFileSystem } from './browse/backupFileSystem';
import { BACKUP_SCHEME } from './browse/backupUri';
import { registerCommands } from './commands/registerCommands';
import type { ReportActions } from './report/reportActions';
import { ReportPanel, registerReportSerializer } from './report/reportPanel';
import { BackupController } from './services/backupController';
import { ClusterConnections } from './services/clusterConnections';
import { ExtensionSettings } from './services/extensionSettings';
import { HistoryService } from './services/historyService';
import { OrphanHelperCheck } from './services/orphanHelperCheck';
import { PastedKubeconfigs } from './services/pastedKubeconfigs';
import { RestoreController } from './services/restoreController';
import { reportDataSource } from './services/reportData';
import { VolumeTreeProvider } from './tree/volumeTreeProvider';

/** What tests in the extension host may inspect. */
export interface NkvmApi {
  tree: VolumeTreeProvider;
  backups: BackupController;
  restores: RestoreController;
  history: HistoryService;
  /** How long activate() itself took, for the activation benchmark. */
  activateMs: number;
}

export function activate(context: vscode.ExtensionContext): NkvmApi {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('Nerdy K8s Volume Manager', { log: true });
  const settings = new ExtensionSettings(context.globalStorageUri.fsPath, log);
  const pasted = new PastedKubeconfigs(context.secrets, log);
  void pasted.load();
  const connections = new ClusterConnections(settings, pasted, log);
  const history = new HistoryService(settings, log);
  const backups = new BackupController(settings, connections, history, log);
  const backupFiles = new BackupFileSystem(history, log);
  const backupFilesView = new BackupFilesView();
  const restores = new RestoreController(settings, connections, history, log);
  const tree = new VolumeTreeProvider(connections, settings, history, context.workspaceState, log);
  const orphans = new OrphanHelperCheck(connections, log);
  const treeView = vscode.window.createTreeView('nkvm.volumes', { treeDataProvider: tree, canSelectMany: true, showCollapseAll: true });
  const source = reportDataSource(backups, history);
  const actions: ReportActions = {
    rerun: (targets) => vscode.commands.executeCommand('nkvm.backupVolumes', targets),
    archiveFolder: () => settings.resolve().settings.backupDir,
  };
  const showReport = (): void => void ReportPanel.show(context.extensionUri, source, log, actions);
  context.subscriptions.push(
    log,
    settings,
    pasted,
    connections,
    history,
    backups,
    tree,
    treeView,
    backupFiles,
    backupFilesView,
    // A pruned backup leaves the "Backup Files" view too.
    backupFiles.onDidChangeFile((changes) => changes.forEach((c) => c.type === vscode.FileChangeType.Deleted && backupFilesView.closeUri(c.uri))),
    restores,
    tree.onDidConnect((node) => orphans.onConnected(node)),
    vscode.workspace.registerFileSystemProvider(BACKUP_SCHEME, backupFiles, { isReadonly: true, isCaseSensitive: true }),
    vscode.window.registerFileDecorationProvider(new BackupDecorations(backupFiles)),
    ...registerCommands({ extensionUri: context.extensionUri, log, settings, connections, pasted, history, backups, restores, backupFiles, backupFilesView, tree, treeView, showReport }),
    registerReportSerializer(context, source, log, actions),
  );
  const activateMs = performance.now() - started;
  log.info(`[extension] activated in ${activateMs.toFixed(1)} ms`);
  stopRunningWork = () => Promise.all([backups.stop('VS Code is closing', STOP_TIMEOUT_MS), restores.stop('VS Code is closing', STOP_TIMEOUT_MS)]).then(() => undefined);
  return { tree, backups, restores, history, activateMs };
}

/** How long deactivation waits for cancelled backups and restores to delete their helper pods: VS Code allows about 5 s. */
const STOP_TIMEOUT_MS = 4_000;
let stopRunningWork: (() => Promise<void>) | undefined;

/** Cancels running backups and restores; resolves when their helpers are deleted (bounded wait). */
export function deactivate(): Promise<void> | undefined {
  // Everything else is disposed through context.subscriptions, after this promise.
  return stopRunningWork?.();
}
