import * as vscode from 'vscode';
import { saveReportExport } from '../report/saveReportExport';
import type { NkvmCommand } from './commandDeps';

export const exportReportCommand: NkvmCommand = {
  id: 'nkvm.exportReport',
  async run(deps, format?: unknown) {
    const chosen =
      format === 'json' || format === 'markdown'
        ? format
        : (await vscode.window.showQuickPick([{ label: 'Markdown', value: 'markdown' as const }, { label: 'JSON', value: 'json' as const }], { placeHolder: 'Export the backup report as' }))?.value;
    if (!chosen) return undefined;
    const rows = await (await deps.history.open()).latest({ limit: 100 });
    return saveReportExport(chosen, deps.backups.latestRun(), rows, deps.log, vscode.Uri.file(deps.settings.baseDir()));
  },
};
