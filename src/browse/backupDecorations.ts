import * as vscode from 'vscode';
import { modeText } from '../core/archive/archiveDirectory';
import { formatBytes } from '../core/report/quantityText';
import type { BackupFileSystem } from './backupFileSystem';
import { BACKUP_SCHEME } from './backupUri';

/** Shows each archive entry's mode and size (as `ls -l` would) when hovering it in the Explorer. */
export class BackupDecorations implements vscode.FileDecorationProvider {
  constructor(private readonly files: BackupFileSystem) {}

  async provideFileDecoration(uri: vscode.Uri): Promise<vscode.FileDecoration | undefined> {
    if (uri.scheme !== BACKUP_SCHEME) return undefined;
    try {
      const { node, linked } = await this.files.find(uri);
      const own = linked ? ' (symlink)' : '';
      const size = node.kind === 'directory' ? '' : ` · ${formatBytes(node.size)}`;
      return { tooltip: `${modeText(node.kind, node.mode)}${size}${own}` };
    } catch {
      return undefined;
    }
  }
}
