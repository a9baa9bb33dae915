import * as vscode from 'vscode';
import type { DrillResult } from '../core/drill/restoreDrill';
import { engine } from '../services/engine';
import { backupFromArgument } from './backupArgument';
import type { CommandDeps, NkvmCommand } from './commandDeps';

/** "Test Restore": restores a backup into a temporary claim, compares every file, deletes the claim. */
export const drillBackupCommand: NkvmCommand = {
  id: 'nkvm.drillBackup',
  async run(deps, arg?: unknown) {
    const record = await backupFromArgument(deps, arg, 'Test Restore');
    if (!record?.backupPath) return undefined;
    const context = record.context ?? deps.connections.contexts().find((c) => c.current)?.name;
    if (!context) throw new Error('This backup does not say which cluster it came from, and there is no current context.');
    const namespace = await vscode.window.showInputBox({
      title: `Test Restore of ${record.namespace}/${record.pvcName}`,
      prompt: 'Namespace for the temporary claim (deleted again when the drill ends)',
      value: record.namespace,
      validateInput: (v) => (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v) ? undefined : 'A namespace name: lower-case letters, digits and dashes'),
    });
    if (!namespace) return undefined;
    const resolved = deps.settings.resolve().settings;
    const history = await deps.history.open();
    const where = `${record.namespace}/${record.pvcName} (${new Date(record.createdAt).toLocaleString()})`;
    deps.log.info(`[drill] backup #${record.id} ${where}: restoring into a temporary claim in ${context}/${namespace}`);
    let result: DrillResult;
    try {
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Test Restore of ${where}`, cancellable: true },
        (progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort(new vscode.CancellationError()));
          return engine.drills().runRestoreDrill(
            deps.connections.configFor(context),
            { archivePath: record.backupPath!, backup: record, context, namespace },
            {
              settings: { ...deps.settings.helperPodSettings(), helperImage: resolved.helperImage, helperPodTimeoutSeconds: resolved.helperPodTimeoutSeconds },
              history,
              signal: abort.signal,
              onProgress: (p) => progress.report({ message: p.stage }),
            },
          );
        },
      );
    } finally {
      deps.history.notifyChanged();
    }
    announce(deps, result, where);
    return result;
  },
};

function announce(deps: CommandDeps, result: DrillResult, where: string): void {
  const line = `[drill] ${where} in ${result.namespace}: ${result.outcome} - ${result.message}`;
  if (result.outcome === 'ok') {
    deps.log.info(line);
    void vscode.window.showInformationMessage(`Test Restore of ${where} passed: ${result.message}`);
    return;
  }
  const listed = [...(result.archiveDifferences?.differences ?? []), ...(result.comparison?.differences ?? [])].map((d) => `${d.kind} ${d.path}`);
  deps.log.warn(`${line}${result.nextStep ? ` Next step: ${result.nextStep}` : ''}${listed.length ? `\n  ${listed.join('\n  ')}` : ''}`);
  if (result.outcome === 'cancelled') {
    void vscode.window.showInformationMessage(`Test Restore of ${where} cancelled; its temporary claim and helper pod were removed.`);
    return;
  }
  const verb = result.outcome === 'differs' ? 'found differences' : 'could not run';
  void vscode.window
    .showErrorMessage(`Test Restore of ${where} ${verb}: ${result.message}`, { detail: result.nextStep } as vscode.MessageOptions, 'Show Log')
    .then((pick) => pick && deps.log.show());
}
