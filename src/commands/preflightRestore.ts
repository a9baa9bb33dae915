import * as vscode from 'vscode';
import { engine } from '../services/engine';
import { backupFromArgument } from './backupArgument';
import type { NkvmCommand } from './commandDeps';
import { chooseRestoreDestination } from './restoreDestination';

/** Checks what restoring a backup into a claim would meet, writing nothing, and opens the findings. */
export const preflightRestoreCommand: NkvmCommand = {
  id: 'nkvm.preflightRestore',
  async run(deps, arg?: unknown) {
    const record = await backupFromArgument(deps, arg, 'Preflight a Restore');
    if (!record?.backupPath) return undefined;
    const request = await chooseRestoreDestination(deps, record, [], { checkOnly: true });
    if (!request) return undefined;
    const { context } = request.target;
    const resolved = deps.settings.resolve().settings;
    const history = await deps.history.open();
    const report = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Checking a restore into ${request.target.namespace}/${request.target.pvc}` }, () =>
      engine.restorePreflight().preflightRestore(
        deps.connections.configFor(context),
        { ...request, archivePath: record.backupPath! },
        { ...deps.settings.helperPodSettings(), helperImage: resolved.helperImage, helperPodTimeoutSeconds: resolved.helperPodTimeoutSeconds },
        // An incremental backup is checked through its chain.
        { history, backup: record },
      ),
    );
    deps.log.info(`[preflight] restore of #${record.id} into ${report.namespace}/${report.pvc}: ${report.verdict}${report.reasons.length ? ` (${report.reasons.join('; ')})` : ''}`);
    const content = engine.preflightReport().restorePreflightMarkdown(context, record.backupPath.split('/').pop() ?? record.backupPath, report, new Date());
    const document = await vscode.workspace.openTextDocument({ language: 'markdown', content });
    await vscode.window.showTextDocument(document, { preview: true });
    void vscode.commands.executeCommand('markdown.showPreviewToSide', document.uri).then(undefined, () => undefined);
    if (report.verdict === 'blocked') void vscode.window.showWarningMessage(`This restore would not work as things stand; the preflight report says why.`);
    return report;
  },
};
