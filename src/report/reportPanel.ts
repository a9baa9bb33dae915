import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { revealPath } from '../commands/archiveLocation';
import { runSummary } from '../core/backup/runReport';
import type { BackupTarget } from '../core/backup/backupVolume';
import type { HistoryRecord } from '../core/history/historyRecord';
import { actionableFailures } from '../core/report/actionableFailures';
import { historyHookRuns } from '../core/report/reportHookRuns';
import type { ReportRun } from '../core/report/reportModel';
import { chartPoints } from './chartPoints';
import { cleanFilter, historyPageQuery, lastPage } from './historyQuery';
import { KNOWN_VOLUME_SCAN, knownVolumes, suggestedChartVolume } from './knownVolumes';
import type { ReportActions } from './reportActions';
import type { ReportDataSource } from './reportDataSource';
import { reportHtml } from './reportHtml';
import { isReportWebviewMessage } from './reportMessageGuard';
import {
  HISTORY_PAGE_SIZE,
  REPORT_VIEW_TYPE,
  type KnownVolume,
  type ReportChartSeries,
  type ReportHistoryFilter,
  type ReportHistoryPage,
  type ReportHostMessage,
  type ReportLatestRun,
  type ReportVolumeRef,
  type ReportWebviewMessage,
} from './reportProtocol';
import { saveReportExport } from './saveReportExport';
import { Throttle } from './throttle';

/** About four updates a second: live enough for progress, cheap for the webview. */
const LIVE_UPDATE_MS = 250;

/** The "Backup Report" webview: latest run, actionable failures, history and charts. One per window. */
export class ReportPanel implements vscode.Disposable {
  private static current: ReportPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private readonly runUpdates = new Throttle(() => void this.guard('update the latest run', () => this.postRun()), LIVE_UPDATE_MS);
  private readonly historyUpdates = new Throttle(() => void this.guard('update the history', () => this.inOrder(() => this.postHistoryAndChart())), LIVE_UPDATE_MS);
  /** Messages before the webview's `ready` would be lost, so nothing is posted until then. */
  private ready = false;
  private disposed = false;
  private filter: ReportHistoryFilter = {};
  private page = 0;
  private chartVolume: ReportVolumeRef | undefined;
  /** The history rows on screen: what an export contains and which archives may be revealed. */
  private shownHistory: readonly HistoryRecord[] = [];
  /** Loads run one after another, so quick paging can never answer with an older page last. */
  private loads: Promise<void> = Promise.resolve();

  /** Opens the report, or brings the open one to the front. */
  static show(extensionUri: vscode.Uri, source: ReportDataSource, log: vscode.LogOutputChannel, actions: ReportActions): ReportPanel {
    if (ReportPanel.current) {
      ReportPanel.current.panel.reveal();
      return ReportPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(REPORT_VIEW_TYPE, 'Backup Report', vscode.ViewColumn.Active, {
      ...webviewOptions(extensionUri),
      enableFindWidget: true,
    });
    return (ReportPanel.current = new ReportPanel(panel, extensionUri, source, log, actions));
  }

  /** Takes over a panel VS Code restored after a reload. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, source: ReportDataSource, log: vscode.LogOutputChannel, actions: ReportActions): ReportPanel {
    ReportPanel.current?.dispose();
    return (ReportPanel.current = new ReportPanel(panel, extensionUri, source, log, actions));
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    private readonly source: ReportDataSource,
    private readonly log: vscode.LogOutputChannel,
    private readonly actions: ReportActions,
  ) {
    const webview = panel.webview;
    webview.options = webviewOptions(extensionUri);
    webview.html = reportHtml({
      cspSource: webview.cspSource,
      nonce: randomUUID(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview', 'report.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'report.css')).toString(),
    });
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      webview.onDidReceiveMessage((message: unknown) => void this.receive(message)),
      source.onDidChangeRun(() => this.runUpdates.schedule()),
      source.onDidChangeHistory(() => this.historyUpdates.schedule()),
      this.runUpdates,
      this.historyUpdates,
    );
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (ReportPanel.current === this) ReportPanel.current = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }

  private async receive(message: unknown): Promise<void> {
    if (!isReportWebviewMessage(message)) {
      this.log.warn('[report] ignored a message from the webview that the report protocol does not define');
      return;
    }
    await this.guard(ACTION_WORDS[message.type], () => this.handle(message));
  }

  private async handle(message: ReportWebviewMessage): Promise<void> {
    switch (message.type) {
      case 'ready':
        if (message.ui) {
          this.filter = cleanFilter(message.ui.filter);
          this.page = message.ui.page;
          this.chartVolume = message.ui.chart && volumeRef(message.ui.chart);
        }
        this.ready = true;
        return this.inOrder(() => this.postState());
      case 'queryHistory': {
        const filter = cleanFilter(message.filter);
        return this.inOrder(async () => {
          this.filter = filter;
          this.page = message.page;
          await this.postHistory();
        });
      }
      case 'chartFor': {
        const volume = volumeRef(message);
        return this.inOrder(async () => {
          this.chartVolume = volume;
          this.post({ type: 'chartData', chart: await this.loadChart() });
        });
      }
      case 'copyText':
        await vscode.env.clipboard.writeText(message.text);
        return;
      case 'revealArchive':
        return this.revealArchive(message.path);
      case 'openArchiveFolder':
        return this.openArchiveFolder();
      case 'exportReport':
        await saveReportExport(message.format, this.source.latestRun(), this.shownHistory, this.log);
        return;
      case 'rerunFailed':
        return this.rerunFailed();
      case 'restoreBackup':
        await vscode.commands.executeCommand('nkvm.restoreBackup', message.historyId);
        return;
      case 'verifyBackup':
        await vscode.commands.executeCommand('nkvm.verifyBackup', message.historyId);
        return;
      case 'drillBackup':
        await vscode.commands.executeCommand('nkvm.drillBackup', message.historyId);
        return;
      case 'consolidateBackup':
        await vscode.commands.executeCommand('nkvm.consolidateBackup', message.historyId);
        return;
    }
  }

  /** Queues a load behind the ones before it; a failed load does not stop the ones after it. */
  private inOrder(load: () => Promise<void>): Promise<void> {
    const next = this.loads.then(load);
    this.loads = next.catch(() => undefined);
    return next;
  }

  /** Posts the state even if the history cannot be read, so the latest run still shows; the error then becomes a notice. */
  private async postState(): Promise<void> {
    let history: ReportHistoryPage = { filter: this.filter, page: 0, pageSize: HISTORY_PAGE_SIZE, total: 0, rows: [] };
    let volumes: KnownVolume[] = [];
    let chart: ReportChartSeries | undefined;
    try {
      [history, volumes] = await Promise.all([this.loadHistory(), this.loadVolumes()]);
      chart = await this.loadChart();
    } finally {
      this.post({ type: 'state', state: { latest: this.latestRun(), history, knownVolumes: volumes, chart } });
    }
  }

  private postRun(): void {
    const latest = this.latestRun();
    if (latest) this.post({ type: 'runUpdated', latest });
  }

  private async postHistory(): Promise<void> {
    const [history, volumes] = await Promise.all([this.loadHistory(), this.loadVolumes()]);
    this.post({ type: 'historyPage', history, knownVolumes: volumes });
  }

  private async postHistoryAndChart(): Promise<void> {
    if (!this.ready) return;
    await this.postHistory();
    this.post({ type: 'chartData', chart: await this.loadChart() });
  }

  private latestRun(): ReportLatestRun | undefined {
    const run = this.source.latestRun();
    if (!run) return undefined;
    // Fails to compile if RunReport and the protocol's ReportRun ever drift apart.
    const view: ReportRun = run;
    return { run: view, summary: runSummary(run), failures: actionableFailures(view) };
  }

  /** The current page, or the last page with rows if the history shrank. */
  private async loadHistory(): Promise<ReportHistoryPage> {
    const filter = this.filter;
    let page = this.page;
    let result = await this.source.queryHistory(historyPageQuery(filter, page));
    if (result.rows.length === 0 && page > lastPage(result.total)) {
      page = lastPage(result.total);
      result = await this.source.queryHistory(historyPageQuery(filter, page));
    }
    this.page = page;
    this.shownHistory = result.rows;
    const rows = result.rows.map((row) => (row.hooks ? { ...row, hookRuns: historyHookRuns(row) } : row));
    return { filter, page, pageSize: HISTORY_PAGE_SIZE, total: result.total, rows };
  }

  /** The volumes for the filter dropdowns; also picks the chart's volume until the user does. */
  private async loadVolumes(): Promise<KnownVolume[]> {
    const recent = await this.source.queryHistory({ limit: KNOWN_VOLUME_SCAN });
    const run = this.source.latestRun();
    this.chartVolume ??= suggestedChartVolume(recent.rows, run);
    return knownVolumes(recent.rows, run);
  }

  private async loadChart(): Promise<ReportChartSeries | undefined> {
    const volume = this.chartVolume;
    if (!volume) return undefined;
    const records = await this.source.pvcSeries(volume.context, volume.namespace, volume.pvc);
    return { volume, points: chartPoints(records) };
  }

  /** Only archives the report itself listed may be revealed: the webview cannot name arbitrary paths. */
  private async revealArchive(archivePath: string): Promise<void> {
    const listed = new Set<string>();
    for (const row of this.source.latestRun()?.rows ?? []) if (row.archivePath) listed.add(row.archivePath);
    for (const row of this.shownHistory) if (row.backupPath) listed.add(row.backupPath);
    if (!listed.has(archivePath)) {
      this.log.warn(`[report] refused to reveal a path the report does not list: ${archivePath}`);
      return;
    }
    if (!(await pathExists(archivePath))) {
      this.notice(`The archive ${archivePath} no longer exists: it was moved or deleted after the backup.`);
      return;
    }
    await revealPath(archivePath);
  }

  private async openArchiveFolder(): Promise<void> {
    const firstArchive = this.source.latestRun()?.rows.find((row) => row.archivePath)?.archivePath;
    const folder = this.actions.archiveFolder() ?? (firstArchive && path.dirname(firstArchive));
    if (!folder) {
      this.notice('No archive folder is known yet: run a backup first.');
      return;
    }
    if (!(await pathExists(folder))) {
      this.notice(`The archive folder ${folder} does not exist yet; the first backup creates it.`);
      return;
    }
    await revealPath(folder);
  }

  private async rerunFailed(): Promise<void> {
    const targets: BackupTarget[] = (this.source.latestRun()?.rows ?? [])
      .filter((row) => row.state === 'failed' || row.state === 'partial' || row.state === 'cancelled')
      .map(({ context, namespace, pvc }) => ({ context, namespace, pvc }));
    if (targets.length === 0) {
      this.notice('The latest run has no failed, partial or cancelled volumes to run again.');
      return;
    }
    this.log.info(`[report] running ${targets.length} volume(s) of the latest run again`);
    await this.actions.rerun(targets);
  }

  private notice(text: string): void {
    this.post({ type: 'notice', text });
  }

  private post(message: ReportHostMessage): void {
    if (!this.ready || this.disposed) return;
    void this.panel.webview.postMessage(message);
  }

  /** Logs a failure with its cause and tells the user in the report, instead of dropping it. */
  private async guard(what: string, work: () => void | Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.log.error(`[report] could not ${what}: ${error instanceof Error ? (error.stack ?? reason) : reason}`);
      this.notice(`Could not ${what}: ${reason}. See the NKVM log for details.`);
    }
  }
}

/** How a failed request is named in the notice, e.g. "Could not export the report: ...". */
const ACTION_WORDS: Record<ReportWebviewMessage['type'], string> = {
  ready: 'load the report',
  queryHistory: 'load the backup history',
  chartFor: 'load the chart',
  copyText: 'copy to the clipboard',
  revealArchive: 'reveal the archive',
  openArchiveFolder: 'open the archive folder',
  exportReport: 'export the report',
  rerunFailed: 'start the failed backups again',
  restoreBackup: 'restore the backup',
  verifyBackup: 'verify the backup',
  drillBackup: 'test-restore the backup',
  consolidateBackup: 'consolidate the backup',
};

/** Restores the report after a window reload; the webview brings back its own filter and page. */
export function registerReportSerializer(
  context: vscode.ExtensionContext,
  source: ReportDataSource,
  log: vscode.LogOutputChannel,
  actions: ReportActions,
): vscode.Disposable {
  const registration = vscode.window.registerWebviewPanelSerializer(REPORT_VIEW_TYPE, {
    async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
      ReportPanel.revive(panel, context.extensionUri, source, log, actions);
    },
  });
  context.subscriptions.push(registration);
  return registration;
}

/** Scripts on, and nothing readable but the webview bundle and the stylesheet folder. */
function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

async function pathExists(filePath: string): Promise<boolean> {
  try {
    await access(filePath);
    return true;
  } catch {
    return false;
  }
}

function volumeRef(volume: ReportVolumeRef): ReportVolumeRef {
  return { context: volume.context, namespace: volume.namespace, pvc: volume.pvc };
}
