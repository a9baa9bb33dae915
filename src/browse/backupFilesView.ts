import * as vscode from 'vscode';
import type { HistoryRecord } from '../core/history/historyRecord';
import { backupUri, parseBackupUri } from './backupUri';

/** The view in the Explorer that lists opened backups; shown once one is open. */
export const BACKUP_FILES_VIEW = 'nkvm.backupFiles';
const OPEN_CONTEXT_KEY = 'nkvm.backupFilesOpen';

/** Folder or file names of a backup, as the Explorer would list them: folders first, then by name. */
function byFolderThenName([a, aType]: [string, vscode.FileType], [b, bType]: [string, vscode.FileType]): number {
  const aDir = aType & vscode.FileType.Directory ? 0 : 1;
  const bDir = bType & vscode.FileType.Directory ? 0 : 1;
  return aDir - bDir || a.localeCompare(b);
}

/**
 * "Backup Files": opened backups as read-only trees of `nkvm-backup:` resources, for windows that are not a
 * multi-root workspace: adding a folder would turn such a window into a new untitled workspace and reopen it
 * (see browseBackup.ts).
 * Elements are the resources' URIs, so the Explorer's commands for `nkvm-backup:` files accept them unchanged.
 */
export class BackupFilesView implements vscode.TreeDataProvider<vscode.Uri>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly roots = new Map<number, { uri: vscode.Uri; record: HistoryRecord }>();
  /** The type of every entry listed so far, by URI, so items need no second look into the archive. */
  private readonly types = new Map<string, vscode.FileType>();
  readonly view: vscode.TreeView<vscode.Uri>;

  constructor() {
    this.view = vscode.window.createTreeView(BACKUP_FILES_VIEW, { treeDataProvider: this, canSelectMany: true, showCollapseAll: true });
  }

  /** Lists the backup (once) and shows it expanded in the Explorer. */
  async show(record: HistoryRecord): Promise<vscode.Uri> {
    const uri = backupUri(record.id);
    if (!this.roots.has(record.id)) {
      this.roots.set(record.id, { uri, record });
      this.changed.fire(undefined);
      await vscode.commands.executeCommand('setContext', OPEN_CONTEXT_KEY, true);
    }
    await vscode.commands.executeCommand(`${BACKUP_FILES_VIEW}.focus`);
    await this.view.reveal(uri, { select: true, focus: true, expand: true });
    return uri;
  }

  /** Removes a backup from the view, e.g. when closed or when its archive was pruned. */
  async close(historyId: number): Promise<void> {
    if (!this.roots.delete(historyId)) return;
    const prefix = backupUri(historyId).toString();
    for (const key of [...this.types.keys()]) if (key.startsWith(prefix)) this.types.delete(key);
    this.changed.fire(undefined);
    if (!this.roots.size) await vscode.commands.executeCommand('setContext', OPEN_CONTEXT_KEY, false);
  }

  /** Closes the backup whose root this is; other URIs are left alone. */
  closeUri(uri: vscode.Uri): void {
    const { historyId, path } = parseBackupUri(uri);
    if (path === '') void this.close(historyId);
  }

  getTreeItem(uri: vscode.Uri): vscode.TreeItem {
    const { historyId, path } = parseBackupUri(uri);
    if (path === '') {
      const record = this.roots.get(historyId)?.record;
      const item = new vscode.TreeItem(record?.pvcName ?? `Backup #${historyId}`, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = uri.toString();
      if (record) {
        const taken = new Date(record.createdAt).toISOString().slice(0, 16).replace('T', ' ');
        item.description = `${record.namespace} · ${taken}`;
        const cluster = record.context ? ` in ${record.context}` : '';
        item.tooltip = `Backup of ${record.namespace}/${record.pvcName}${cluster}, taken ${taken} UTC (read-only)`;
      }
      item.resourceUri = uri;
      item.iconPath = new vscode.ThemeIcon('folder-library');
      item.contextValue = 'nkvm.backupFiles.root';
      return item;
    }
    const type = this.types.get(uri.toString()) ?? vscode.FileType.Unknown;
    const folder = (type & vscode.FileType.Directory) !== 0;
    const item = new vscode.TreeItem(uri, folder ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = uri.toString();
    item.contextValue = folder ? 'nkvm.backupFiles.folder' : 'nkvm.backupFiles.file';
    if (type & vscode.FileType.File) item.command = { command: 'vscode.open', title: 'Open', arguments: [uri] };
    return item;
  }

  async getChildren(uri?: vscode.Uri): Promise<vscode.Uri[]> {
    if (!uri) return [...this.roots.values()].map((r) => r.uri);
    const entries = await vscode.workspace.fs.readDirectory(uri);
    return entries.sort(byFolderThenName).map(([name, type]) => {
      const child = vscode.Uri.joinPath(uri, name);
      this.types.set(child.toString(), type);
      return child;
    });
  }

  getParent(uri: vscode.Uri): vscode.Uri | undefined {
    const { historyId, path } = parseBackupUri(uri);
    if (path === '') return undefined;
    const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    return backupUri(historyId, parent);
  }

  dispose(): void {
    this.view.dispose();
    this.changed.dispose();
  }
}
