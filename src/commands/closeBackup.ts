import * as vscode from 'vscode';
import { parseBackupUri } from '../browse/backupUri';
import type { NkvmCommand } from './commandDeps';

/** "Backup Files" view: removes an opened backup from the view (the archive and its history stay). */
export const closeBackupCommand: NkvmCommand = {
  id: 'nkvm.closeBackup',
  async run(deps, uri?: unknown) {
    if (!(uri instanceof vscode.Uri)) throw new Error('Choose the backup to close in the "Backup Files" view of the Explorer.');
    await deps.backupFilesView.close(parseBackupUri(uri).historyId);
  },
};
