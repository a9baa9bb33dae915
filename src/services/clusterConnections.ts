import type { KubeConfig } from '@kubernetes/client-node';
import type { MissingPlugin } from '../core/kube/execPlugins';
import { homedir } from 'node:os';
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import { engine } from './engine';
import type { ExtensionSettings } from './extensionSettings';
import type { PastedKubeconfigs } from './pastedKubeconfigs';

export interface ClusterContext {
  name: string;
  cluster?: string;
  server?: string;
  namespace?: string;
  current: boolean;
  /** Where the context comes from, in words: the pod's service account, a file, or a pasted kubeconfig. */
  source: string;
}

/**
 * The clusters the tree shows: the in-cluster service account when running in a pod (the default then),
 * the kubeconfig files' contexts, and pasted kubeconfigs. Read on first use; follows edits to the files,
 * to the settings and to the pasted entries.
 */
export class ClusterConnections implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private loaded = false;
  private kubeConfig?: KubeConfig;
  private sources = new Map<string, string>();
  private missingPlugins = new Map<string, MissingPlugin>();
  private files: string[] = [];
  private problemList: string[] = [];
  private watchers: vscode.Disposable[] = [];
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly settings: ExtensionSettings, private readonly pasted: PastedKubeconfigs, private readonly log: vscode.LogOutputChannel) {
    this.subscriptions.push(settings.onDidChange(() => this.reload()), pasted.onDidChange(() => this.loaded && this.reload()));
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
      source: this.sources.get(c.name) ?? 'kubeconfig',
    }));
  }

  /** A kubeconfig pointed at one context; the user's file is never changed. */
  configFor(context: string): KubeConfig {
    this.ensureLoaded();
    if (!this.kubeConfig) throw new Error('No kubeconfig is loaded: set nkvm.kubeconfigPath or KUBECONFIG, or add a pasted kubeconfig.');
    const user = this.kubeConfig.contexts.find((c) => c.name === context)?.user;
    const missing = user ? this.missingPlugins.get(user) : undefined;
    if (missing) throw new Error(engine.execPlugins().missingPluginMessage(missing));
    return engine.contextConfig().kubeConfigForContext(this.kubeConfig, context);
  }

  reload(notify = true): void {
    const { kubeconfigFiles, loadKubeconfigs, mergeKubeConfigs } = engine.kubeconfigs();
    const problems: string[] = [];
    const sources = new Map<string, string>();
    const parts: KubeConfig[] = [];
    const add = (kc: KubeConfig, source: string): void => {
      for (const c of kc.contexts) {
        if (sources.has(c.name)) problems.push(`context "${c.name}" from ${source} is hidden by the one from ${sources.get(c.name)}; rename one of them`);
        else sources.set(c.name, source);
      }
      parts.push(kc);
    };

    const inCluster = this.settings.inClusterMode() === 'auto' ? engine.inCluster().inClusterKubeConfig(process.env) : undefined;
    if (inCluster) add(inCluster, 'the pod\'s service account');
    const files = kubeconfigFiles(this.settings.kubeconfigPaths(), process.env, homedir(), this.settings.baseDir());
    const fromFiles = loadKubeconfigs(files);
    // A missing ~/.kube/config is normal in a pod or with pasted kubeconfigs; other problems are worth showing.
    problems.push(...fromFiles.problems.filter((p) => !(inCluster || this.pasted.list().length) || !p.endsWith('does not exist')));
    if (fromFiles.kubeConfig) add(fromFiles.kubeConfig, `kubeconfig ${files.join(', ')}`);
    for (const entry of this.pasted.list()) {
      try {
        const { parseKubeconfigText, withPrivateNames } = engine.kubeconfigText();
        add(withPrivateNames(parseKubeconfigText(entry.text), `pasted:${entry.name}/`), `pasted kubeconfig "${entry.name}"`);
      } catch (e) {
        problems.push(`pasted kubeconfig "${entry.name}": ${(e as Error).message}`);
      }
    }

    this.loaded = true;
    this.files = files;
    this.sources = sources;
    this.problemList = problems;
    this.missingPlugins = new Map();
    if (parts.length) {
      const { resolveExecPlugins, usualPluginDirs } = engine.execPlugins();
      const resolved = resolveExecPlugins(mergeKubeConfigs(parts), process.env, usualPluginDirs(homedir()));
      this.kubeConfig = resolved.kubeConfig;
      for (const m of resolved.missing) this.missingPlugins.set(m.user, m);
    } else {
      this.kubeConfig = undefined;
    }
    for (const p of problems) this.log.warn(`[kubeconfig] ${p}`);
    this.log.info(`[kubeconfig] ${this.kubeConfig ? `${this.kubeConfig.contexts.length} context(s)` : 'no clusters'}${inCluster ? ' including the in-cluster service account' : ''}; files: ${files.join(', ')}`);
    this.watch(files);
    void vscode.commands.executeCommand('setContext', 'nkvm.noKubeconfig', !this.kubeConfig);
    if (notify) this.changed.fire();
  }

  private ensureLoaded(): void {
    // The first read happens while the tree asks for its roots, which need no second refresh.
    if (!this.loaded) this.reload(false);
  }

  private watch(files: string[]): void {
    if (files.join('\n') === this.watchedFiles) return;
    this.watchedFiles = files.join('\n');
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
  private watchedFiles = '';

  dispose(): void {
    for (const d of [...this.watchers, ...this.subscriptions]) d.dispose();
    this.changed.dispose();
  }
}
