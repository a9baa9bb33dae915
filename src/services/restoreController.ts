import * as vscode from 'vscode';
import type { HistoryRecord } from '../core/history/historyRecord';
import type { RestoreRequest, RestoreResult } from '../core/restore/restoreVolume';
import { formatBytes, formatRate } from '../core/report/quantityText';
import type { ClusterConnections } from './clusterConnections';
import { engine } from './engine';
import type { ExtensionSettings } from './extensionSettings';
import type { HistoryService } from './historyService';
import { SingleFlight } from './singleFlight';

/** Runs one restore at a time with a cancellable progress notification and records it in the history. */
export class RestoreController implements vscode.Disposable {
  private readonly restore = new SingleFlight();

  constructor(
    private readonly settings: ExtensionSettings,
    private readonly connections: ClusterConnections,
    private readonly history: HistoryService,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get isRunning(): boolean {
    return this.restore.isRunning;
  }

  /**
   * Starts a restore unless one is running; the running state is taken before the first `await`. With the
   * backup's history row, an incremental backup is restored through its chain.
   */
  run(request: RestoreRequest, label: string, backup?: HistoryRecord): Promise<RestoreResult | undefined> {
    const started = this.restore.start((signal) => this.runRestore(request, label, signal, backup));
    if (!started) {
      void vscode.window.showWarningMessage('A restore is already running. Wait for it to finish or cancel it from its notification.');
      return Promise.resolve(undefined);
    }
    return started;
  }

  /** Cancels the running restore and resolves once its helper pod is deleted, or after `timeoutMs`. */
  async stop(reason: string, timeoutMs: number): Promise<void> {
    if (!this.restore.isRunning) return;
    this.log.info(`[restore] stopping the running restore: ${reason}`);
    await this.restore.stop(reason, timeoutMs);
  }

  private async runRestore(request: RestoreRequest, label: string, signal: AbortSignal, backup: HistoryRecord | undefined): Promise<RestoreResult> {
    const resolved = this.settings.resolve().settings;
    const history = await this.history.open();
    const { context, namespace, pvc } = request.target;
    this.log.info(`[restore] ${label} -> ${context}/${namespace}/${pvc}${request.emptyFirst ? ' (emptying it first)' : ''}${request.paths?.length ? ` paths: ${request.paths.join(', ')}` : ''}`);
    let result: RestoreResult;
    try {
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Restoring ${label} into ${namespace}/${pvc}`, cancellable: true },
        (progress, token) => {
          token.onCancellationRequested(() => this.restore.cancel('cancelled by the user'));
          let reported = 0;
          return engine.restores().runRestore(this.connections.configFor(context), request, {
            settings: { ...this.settings.helperPodSettings(), helperImage: resolved.helperImage, helperPodTimeoutSeconds: resolved.helperPodTimeoutSeconds },
            history,
            backup,
            signal,
            onProgress: (p) => {
              const percent = p.totalBytes ? (100 * p.bytes) / p.totalBytes : 0;
              progress.report({
                message: `${p.stage}${p.bytes ? ` · ${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)} at ${formatRate(p.bytesPerSecond)}` : ''}`,
                increment: Math.max(0, percent - reported),
              });
              reported = Math.max(reported, percent);
            },
            onHistoryError: (e) => this.log.error(`[history] could not record the restore into ${namespace}/${pvc}: ${e.message}`),
          });
        },
      );
    } finally {
      this.history.notifyChanged();
    }
    this.announce(result, request, label, backup);
    return result;
  }

  private announce(result: RestoreResult, request: RestoreRequest, label: string, backup: HistoryRecord | undefined): void {
    const where = `${result.namespace}/${result.pvc}`;
    if (result.status === 'success') {
      this.log.info(`[restore] ${where}: ${result.message}${result.warnings.length ? `\n  ${result.warnings.join('\n  ')}` : ''}`);
      const summary = `Restored ${label} into ${where}: ${result.files ?? 0} files, ${formatBytes(result.bytes ?? 0)}, counts checked in the pod.`;
      if (!result.warnings.length) {
        void vscode.window.showInformationMessage(summary);
        return;
      }
      // What the restore could not do as archived (owners, the mount point's times) is said, not only logged.
      void vscode.window.showWarningMessage(`${summary} ${result.warnings[0]}${result.warnings.length > 1 ? ` (+${result.warnings.length - 1} more in the log)` : ''}`, 'Show Log').then((pick) => pick && this.log.show());
      return;
    }
    const line = `[restore] ${where}: ${result.status} in the ${result.stage} stage - ${result.message}`;
    this.log.warn(`${line}${result.nextStep ? ` Next step: ${result.nextStep}` : ''}${result.evidence.length ? `\n  ${result.evidence.join('\n  ')}` : ''}`);
    if (result.status === 'cancelled') {
      void vscode.window.showInformationMessage(`Restore into ${where} cancelled; the helper pod was removed.`);
      return;
    }
    if (result.rootWouldWrite) {
      // Nothing was written: only root can replace these files, and the namespace admits a root helper.
      const asRoot = 'Restore as Root';
      void vscode.window
        .showWarningMessage(`Restore into ${where} stopped before writing: ${result.message.replace(/^\w+ stage failed: /, '')}.`, { modal: true, detail: result.nextStep }, asRoot)
        .then((pick) => (pick === asRoot ? this.run({ ...request, runAsRoot: true }, `${label} (as root)`, backup) : undefined));
      return;
    }
    void vscode.window
      .showErrorMessage(`Restore into ${where} failed (${result.stage}): ${result.message}${result.nextStep ? ` Next step: ${result.nextStep}` : ''}`, 'Show Log')
      .then((pick) => pick && this.log.show());
  }

  dispose(): void {
    this.restore.cancel('VS Code is closing');
  }
}
