import type { KubeConfig } from '@kubernetes/client-node';
import { homedir } from 'node:os';
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import { engine } from './engine';
import type { ExtensionSettings } from './extensionSettings';

export interface ClusterContext {
  name: string;
  cluster?: string;
  server?: string;
  namespace?: string;
  current: boolean;
}

/**
 * The kubeconfig's contexts as clusters, read on first use; follows edits to the files and to the
 * settings that name them.
 */
export class ClusterConnections implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private loaded = false;
  private kubeConfig?: KubeConfig;
  private files: string[] = [];
  private problemList: string[] = [];
  private watchers: vscode.Disposable[] = [];
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly settings: ExtensionSettings, private readonly log: vscode.LogOutputChannel) {
    this.subscriptions.push(settings.onDidChange(() => this.reload()));
  }

  get problems(): readonly string[] {
    this.ensureLoaded();
    return this.problemList;
  }

  contexts(): ClusterContext[] {
    this.ensureLoaded();
    const kc = this.kubeConfig;
    if (!kc) return [];
    return kc.contexts.map((c) => ({
      name: c.name,
      cluster: c.cluster,
      server: kc.clusters.find((x) => x.name === c.cluster)?.server,
      namespace: c.namespace,
      current: c.name === kc.currentContext,
    }));
  }

  /** A kubeconfig pointed at one context; the user's file is never changed. */
  configFor(context: string): KubeConfig {
    this.ensureLoaded();
    if (!this.kubeConfig) throw new Error('No kubeconfig is loaded: set nkvm.kubeconfigPath or KUBECONFIG.');
    return engine.contextConfig().kubeConfigForContext(this.kubeConfig, context);
  }

  reload(notify = true): void {
    const { kubeconfigFiles, loadKubeconfigs } = engine.kubeconfigs();
    const files = kubeconfigFiles(this.settings.kubeconfigPaths(), process.env, homedir(), this.settings.baseDir());
    const load = loadKubeconfigs(files);
    this.loaded = true;
    this.kubeConfig = load.kubeConfig;
    this.problemList = load.problems;
    for (const p of load.problems) this.log.warn(`[kubeconfig] ${p}`);
    this.log.info(`[kubeconfig] ${load.kubeConfig ? `${load.kubeConfig.contexts.length} context(s)` : 'no kubeconfig'} from ${files.join(', ')}`);
    if (files.join('\n') !== this.files.join('\n')) this.watch(files);
    this.files = files;
    void vscode.commands.executeCommand('setContext', 'nkvm.noKubeconfig', !load.kubeConfig);
    if (notify) this.changed.fire();
  }

  private ensureLoaded(): void {
    // The first read happens while the tree asks for its roots, which need no second refresh.
    if (!this.loaded) this.reload(false);
  }

  private watch(files: string[]): void {
    for (const w of this.watchers) w.dispose();
    this.watchers = files.map((file) => {
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dirname(file)), basename(file)));
      const onEvent = (): void => this.reload();
      watcher.onDidChange(onEvent);
      watcher.onDidCreate(onEvent);
      watcher.onDidDelete(onEvent);
      return watcher;
    });
  }

  dispose(): void {
    for (const d of [...this.watchers, ...this.subscriptions]) d.dispose();
    this.changed.dispose();
  }
}
