import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { reportToJson, reportToMarkdown } from '../core/report/reportExport';
import type { NkvmCommand } from './commandDeps';

export const exportReportCommand: NkvmCommand = {
  id: 'nkvm.exportReport',
  async run(deps, format?: unknown) {
    const chosen =
      format === 'json' || format === 'markdown'
        ? format
        : (await vscode.window.showQuickPick([{ label: 'Markdown', value: 'markdown' as const }, { label: 'JSON', value: 'json' as const }], { placeHolder: 'Export the backup report as' }))?.value;
    if (!chosen) return;
    const history = await deps.history.open();
    const rows = await history.latest({ limit: 100 });
    const run = deps.backups.latestRun();
    const text = chosen === 'json' ? reportToJson(run, rows) : reportToMarkdown(run, rows);
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(join(deps.settings.baseDir(), `nkvm-report-${stamp}.${chosen === 'json' ? 'json' : 'md'}`)),
      filters: chosen === 'json' ? { JSON: ['json'] } : { Markdown: ['md'] },
    });
    if (!target) return;
    await writeFile(target.fsPath, text, { mode: 0o600 });
    deps.log.info(`[report] exported ${target.fsPath}`);
    const pick = await vscode.window.showInformationMessage(`Report saved to ${target.fsPath}`, 'Open');
    if (pick) await vscode.window.showTextDocument(target);
  },
};
