import * as vscode from 'vscode';

/** Backups open in VS Code as `nkvm-backup://<history id>/<path in the archive>`. */
export const BACKUP_SCHEME = 'nkvm-backup';

export interface BackupLocation {
  historyId: number;
  /** Archive path without a leading slash; '' is the archive's root. */
  path: string;
}

export function backupUri(historyId: number, path = ''): vscode.Uri {
  return vscode.Uri.from({ scheme: BACKUP_SCHEME, authority: String(historyId), path: `/${path}` });
}

export function parseBackupUri(uri: vscode.Uri): BackupLocation {
  const historyId = Number(uri.authority);
  if (uri.scheme !== BACKUP_SCHEME || !Number.isSafeInteger(historyId) || historyId <= 0) {
    throw vscode.FileSystemError.FileNotFound(uri);
  }
  return { historyId, path: uri.path.replace(/^\/+|\/+$/g, '') };
}
