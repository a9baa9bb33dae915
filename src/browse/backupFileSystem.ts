import * as vscode from 'vscode';
import { ArchiveDirectory, type ArchiveNode } from '../core/archive/archiveDirectory';
import type { HistoryRecord } from '../core/history/historyRecord';
import { engine } from '../services/engine';
import type { HistoryService } from '../services/historyService';
import { backupUri, parseBackupUri } from './backupUri';

/** An opened backup: its history row and its archive as folders and files. */
export interface OpenedBackup {
  record: HistoryRecord;
  archivePath: string;
  /** The archive file to read a path from: the backup's own, or for an incremental backup the one of its chain. */
  archiveHolding: (path: string) => string;
  directory: ArchiveDirectory;
  /** Whether the listing came from the database or was read from the archive just now. */
  source: 'cache' | 'built';
}

const MAX_OPEN_BYTES = 64 * 1024 * 1024;

/**
 * Backups as read-only folders: listings come from the archive index kept in the history database,
 * file contents are read from the archive on demand.
 */
export class BackupFileSystem implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;
  private readonly opened = new Map<number, Promise<OpenedBackup>>();

  constructor(private readonly history: HistoryService, private readonly log: vscode.LogOutputChannel) {}

  /** Opens a backup's listing (building and saving the index the first time). */
  open(historyId: number): Promise<OpenedBackup> {
    let pending = this.opened.get(historyId);
    if (!pending) {
      pending = this.load(historyId);
      this.opened.set(historyId, pending);
      pending.catch(() => this.opened.delete(historyId));
    }
    return pending;
  }

  /** Forgets a backup's listing, e.g. after its archive was pruned. */
  forget(historyId: number): void {
    if (this.opened.delete(historyId)) this.changed.fire([{ type: vscode.FileChangeType.Deleted, uri: backupUri(historyId) }]);
  }

  watch(): vscode.Disposable {
    // Archives never change under a backup; there is nothing to watch.
    return new vscode.Disposable(() => undefined);
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const { node, linked } = await this.find(uri);
    const type = fileTypeOf(node) | (linked ? vscode.FileType.SymbolicLink : 0);
    return { type, size: node.size, mtime: node.mtimeMs, ctime: node.mtimeMs, permissions: vscode.FilePermission.Readonly };
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    const { historyId, path } = parseBackupUri(uri);
    const { directory } = await this.open(historyId);
    const entries = directory.list(path);
    if (!entries) throw vscode.FileSystemError.FileNotADirectory(uri);
    return entries.map((node) => {
      const target = node.kind === 'symlink' ? directory.lookup(node.path, { follow: true }) : node;
      const type = (target ? fileTypeOf(target) : vscode.FileType.Unknown) | (node.kind === 'symlink' ? vscode.FileType.SymbolicLink : 0);
      return [node.path.slice(node.path.lastIndexOf('/') + 1), type];
    });
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const { historyId } = parseBackupUri(uri);
    const { node } = await this.find(uri);
    if (node.kind === 'directory') throw vscode.FileSystemError.FileIsADirectory(uri);
    if (node.kind !== 'file') throw vscode.FileSystemError.Unavailable(`${node.path} is not a regular file`);
    if (node.size > MAX_OPEN_BYTES) {
      throw vscode.FileSystemError.Unavailable(`${node.path} is ${node.size} bytes, too large to open here; use "Extract to Folder..." instead`);
    }
    const { archiveHolding } = await this.open(historyId);
    return engine.archiveFiles().readArchiveFile(archiveHolding(node.path), node.path, { maxBytes: MAX_OPEN_BYTES });
  }

  createDirectory(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
  writeFile(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
  delete(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
  rename(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  /** The node behind a URI, with symlinks inside the archive followed. */
  async find(uri: vscode.Uri): Promise<{ node: ArchiveNode; linked: boolean; opened: OpenedBackup }> {
    const { historyId, path } = parseBackupUri(uri);
    const opened = await this.open(historyId);
    const own = opened.directory.lookup(path);
    const node = own?.kind === 'symlink' ? opened.directory.lookup(path, { follow: true }) : own;
    if (!node) throw vscode.FileSystemError.FileNotFound(uri);
    return { node, linked: own?.kind === 'symlink', opened };
  }

  private async load(historyId: number): Promise<OpenedBackup> {
    const store = await this.history.open();
    const record = await store.get(historyId);
    if (!record) throw vscode.FileSystemError.FileNotFound(`Backup #${historyId} is not in the history any more.`);
    const started = Date.now();
    let opened;
    try {
      opened = await engine.archiveIndex().openArchiveIndex(store, record);
    } catch (e) {
      throw vscode.FileSystemError.Unavailable(e instanceof Error ? e.message : String(e));
    }
    if (opened.saveError) this.log.warn(`[browse] the listing of backup #${historyId} could not be saved: ${opened.saveError.message}`);
    const directory = new ArchiveDirectory(opened.index, Date.parse(record.createdAt));
    this.log.info(`[browse] backup #${historyId}: ${directory.size} entries from the ${opened.source === 'cache' ? 'saved index' : 'archive'} in ${Date.now() - started} ms`);
    if (opened.index.unsafe.length) {
      this.log.warn(`[browse] backup #${historyId}: ${opened.index.unsafe.length} entries hidden:\n  ${opened.index.unsafe.map((u) => `${u.path}: ${u.reason}`).join('\n  ')}`);
    }
    return { record, archivePath: opened.archivePath, archiveHolding: opened.archiveHolding, directory, source: opened.source };
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function fileTypeOf(node: ArchiveNode): vscode.FileType {
  if (node.kind === 'directory') return vscode.FileType.Directory;
  if (node.kind === 'file') return vscode.FileType.File;
  return vscode.FileType.Unknown;
}
