import { writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as vscode from 'vscode';
import type { RunReport } from '../core/backup/runReport';
import type { HistoryRecord } from '../core/history/historyRecord';
import { reportToJson, reportToMarkdown } from '../core/report/reportExport';
import type { ExportFormat } from './reportProtocol';

const FORMATS: Record<ExportFormat, { extension: string; filter: string; render: typeof reportToJson }> = {
  json: { extension: 'json', filter: 'JSON', render: reportToJson },
  markdown: { extension: 'md', filter: 'Markdown', render: reportToMarkdown },
};

/**
 * Asks where to save the report and writes it, readable by the user only since it names clusters,
 * volumes and archive paths. Resolves to the file written, or undefined if the user cancelled.
 */
export async function saveReportExport(
  format: ExportFormat,
  run: RunReport | undefined,
  historyRows: readonly HistoryRecord[],
  log: vscode.LogOutputChannel,
  defaultFolder: vscode.Uri = vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir()),
): Promise<vscode.Uri | undefined> {
  const { extension, filter, render } = FORMATS[format];
  const now = new Date();
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const target = await vscode.window.showSaveDialog({
    title: 'Export Backup Report',
    saveLabel: 'Export',
    defaultUri: vscode.Uri.joinPath(defaultFolder, `nkvm-report-${stamp}.${extension}`),
    filters: { [filter]: [extension] },
  });
  if (!target) return undefined;
  const text = render(run, historyRows, { generatedAt: now });
  if (target.scheme === 'file') {
    await writeFile(target.fsPath, text, { mode: 0o600 });
  } else {
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(text));
  }
  log.info(`[report] exported the report as ${format} to ${target.fsPath}`);
  void vscode.window.showInformationMessage(`Backup report saved to ${target.fsPath}`, 'Open').then(
    (choice) => (choice === 'Open' ? vscode.window.showTextDocument(target) : undefined),
    (error: unknown) => log.error(`[report] could not open the exported report: ${String(error)}`),
  );
  return target;
}
