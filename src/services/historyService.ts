import * as vscode from 'vscode';
import type { HistoryStore } from '../core/history/historyStore';
import { engine } from './engine';
import type { ExtensionSettings } from './extensionSettings';

/** Opens the history database on first use, and again when its path setting changes. */
export class HistoryService implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private store?: Promise<HistoryStore>;
  private storePath?: string;

  constructor(private readonly settings: ExtensionSettings, private readonly log: vscode.LogOutputChannel) {}

  async open(): Promise<HistoryStore> {
    const path = this.settings.resolve().settings.metadataDbPath;
    if (!this.store || path !== this.storePath) {
      const previous = this.store;
      this.storePath = path;
      this.store = engine
        .history()
        .HistoryStore.open(path, { onWarning: (w) => this.warn(w.message) })
        .then(async (store) => {
          await this.markInterrupted(store);
          return store;
        });
      this.store.catch(() => (this.store = undefined));
      void previous?.then((s) => s.close()).catch(() => undefined);
      this.log.info(`[history] ${path}`);
    }
    return this.store;
  }

  /** Tells listeners (tree, report) that rows were added. */
  notifyChanged(): void {
    this.changed.fire();
  }

  /** Rows a killed or crashed window or `nkvm` left `running` show as interrupted from the start. */
  private async markInterrupted(store: HistoryStore): Promise<void> {
    try {
      for (const row of await store.markInterruptedRows()) {
        this.log.info(`[history] row ${row.id} (${row.namespace}/${row.pvcName}): ${row.message}`);
      }
    } catch (e) {
      this.log.warn(`[history] could not mark interrupted rows: ${(e as Error).message}`);
    }
  }

  private warn(message: string): void {
    this.log.warn(`[history] ${message}`);
    void vscode.window.showWarningMessage(message, 'Show Log').then((pick) => pick && vscode.commands.executeCommand('nkvm.showLog'));
  }

  dispose(): void {
    void this.store?.then((s) => s.close()).catch(() => undefined);
    this.changed.dispose();
  }
}
