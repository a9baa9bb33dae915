import * as vscode from 'vscode';
import type { NkvmCommand } from './commandDeps';

export const cancelBackupsCommand: NkvmCommand = {
  id: 'nkvm.cancelBackups',
  run(deps) {
    if (!deps.backups.cancel()) void vscode.window.showInformationMessage('No backup is running.');
  },
};
