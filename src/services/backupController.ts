import { backupProgressText } from '../core/report/backupProgressText';
import * as vscode from 'vscode';
import type { BackupTarget } from '../core/backup/backupVolume';
import { applyProgress, applyResult, newRunReport, RunReport, runSummary } from '../core/backup/runReport';
import type { ClusterConnections } from './clusterConnections';
import type { ExtensionSettings } from './extensionSettings';
import { engine } from './engine';
import type { HistoryService } from './historyService';
import { applyReadFacts } from '../core/report/runReadFacts';
import { SingleFlight } from './singleFlight';

/** Runs batches with one cancellable progress notification, a status bar item and a summary at the end. */
export class BackupController implements vscode.Disposable {
  private readonly runChanged = new vscode.EventEmitter<RunReport>();
  readonly onDidChangeRun = this.runChanged.event;
  private readonly statusBar = vscode.window.createStatusBarItem('nkvm.backups', vscode.StatusBarAlignment.Left, 10);
  private report?: RunReport;
  private readonly batch = new SingleFlight();

  constructor(
    private readonly settings: ExtensionSettings,
    private readonly connections: ClusterConnections,
    private readonly history: HistoryService,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.statusBar.name = 'Volume Backups';
    this.statusBar.command = 'nkvm.openReport';
  }

  latestRun(): RunReport | undefined {
    return this.report;
  }

  get isRunning(): boolean {
    return this.batch.isRunning;
  }

  cancel(): boolean {
    if (!this.batch.isRunning) return false;
    this.log.info('[backup] cancelling the running batch');
    return this.batch.cancel('cancelled by the user');
  }

  /**
   * Starts a batch unless one is running. The running state is taken before the first `await`, so
   * two quick invocations cannot both start (the second would leave the first uncancellable).
   */
  run(targets: BackupTarget[]): Promise<RunReport | undefined> {
    const started = this.batch.start((signal) => this.runBatch(targets, signal));
    if (!started) {
      void vscode.window.showWarningMessage('A backup batch is already running. Wait for it or cancel it first.', 'Cancel Running Backups').then((p) => p && this.cancel());
      return Promise.resolve(undefined);
    }
    return started;
  }

  /**
   * Cancels the running batch and resolves once its helper pods are deleted, or after `timeoutMs`
   * (VS Code gives deactivation only a few seconds).
   */
  async stop(reason: string, timeoutMs: number): Promise<void> {
    if (!this.batch.isRunning) return;
    this.log.info(`[backup] stopping the running batch: ${reason}`);
    await this.batch.stop(reason, timeoutMs);
  }

  private async runBatch(targets: BackupTarget[], signal: AbortSignal): Promise<RunReport> {
    const resolved = this.settings.resolve().settings;
    const history = await this.history.open();
    const concurrency = this.settings.concurrency();
    const report = newRunReport(targets, concurrency);
    this.report = report;
    void vscode.commands.executeCommand('setContext', 'nkvm.backupRunning', true);
    this.runChanged.fire(report);
    const title = targets.length === 1 ? `Backing up ${targets[0].namespace}/${targets[0].pvc}` : `Backing up ${targets.length} volumes`;
    this.log.info(`[backup] ${title} (concurrency ${concurrency}) into ${resolved.backupDir}`);
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
        token.onCancellationRequested(() => this.cancel());
        let done = 0;
        let lastReport = 0;
        const update = (force = false): void => {
          this.updateStatusBar(report);
          if (!force && Date.now() - lastReport < 300) return;
          lastReport = Date.now();
          progress.report({ message: progressLine(report) });
          this.runChanged.fire(report);
        };
        await engine.backups().runBackups(targets, {
          kubeConfigFor: (context) => this.connections.configFor(context),
          settings: { ...this.settings.helperPodSettings(), ...this.settings.archiveSettings(), hooks: this.settings.backupHookSettings(), backupDir: resolved.backupDir, helperImage: resolved.helperImage, helperPodTimeoutSeconds: resolved.helperPodTimeoutSeconds },
          concurrency,
          history,
          signal,
          onProgress: (p) => {
            applyProgress(report, p);
            update();
          },
          onResult: (r) => {
            applyResult(report, r);
            applyReadFacts(report, r);
            done++;
            const line = `[backup] ${r.namespace}/${r.pvc}: ${r.status} - ${r.message}`;
            if (r.status === 'success') this.log.info(line);
            else this.log.warn(`${line}${r.nextStep ? ` Next step: ${r.nextStep}` : ''}${r.evidence.length ? `\n  ${r.evidence.join('\n  ')}` : ''}`);
            progress.report({ increment: 100 / targets.length });
            update(true);
            this.history.notifyChanged();
            if (done === targets.length) this.runChanged.fire(report);
          },
          onHistoryError: (e, r) => this.log.error(`[history] could not record ${r.namespace}/${r.pvc}: ${e.message}`),
        });
      });
    } finally {
      this.statusBar.hide();
      void vscode.commands.executeCommand('setContext', 'nkvm.backupRunning', false);
      this.runChanged.fire(report);
    }
    this.announce(report);
    return report;
  }

  private updateStatusBar(report: RunReport): void {
    const finished = report.rows.filter((r) => r.state !== 'queued' && r.state !== 'running').length;
    this.statusBar.text = `$(sync~spin) Backups ${finished}/${report.rows.length}`;
    this.statusBar.tooltip = progressLine(report);
    this.statusBar.show();
  }

  private announce(report: RunReport): void {
    const summary = runSummary(report);
    const failed = report.rows.some((r) => r.state === 'failed' || r.state === 'partial');
    const show = failed ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    void show(summary, 'Open Report').then((pick) => pick && vscode.commands.executeCommand('nkvm.openReport'));
  }

  dispose(): void {
    this.batch.cancel('VS Code is closing');
    this.statusBar.dispose();
    this.runChanged.dispose();
  }
}

/** One line for the notification: what each running volume is doing. */
function progressLine(report: RunReport): string {
  const finished = report.rows.filter((r) => r.state !== 'queued' && r.state !== 'running').length;
  const active = report.rows
    .filter((r) => r.state === 'running')
    .map((r) => `${r.namespace}/${r.pvc}: ${r.stage ? backupProgressText({ ...r, stage: r.stage }) : 'starting'}`);
  return [`${finished}/${report.rows.length} done`, ...active].join(' · ');
}
