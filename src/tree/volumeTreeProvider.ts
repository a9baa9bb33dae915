import * as vscode from 'vscode';
import type { ClusterConnections } from '../services/clusterConnections';
import { engine } from '../services/engine';
import type { ExtensionSettings } from '../services/extensionSettings';
import type { HistoryService } from '../services/historyService';
import type { VolumeInfo } from '../core/discovery/volumeInventory';
import { CLAIMS_PAGE_SIZE, ClusterNode, MessageNode, MoreNode, NamespaceNode, namespaceNodeId, nodeId, PvcNode, VolumeTreeNode } from './volumeTreeNodes';
import { treeItemOf } from './volumeTreeItems';

export const NAMESPACE_FILTERS_KEY = 'nkvm.namespaceFilters';
const REDRAW_DELAY_MS = 100;

interface LoadedClaims {
  volumes: VolumeInfo[];
  warnings: string[];
  continueToken?: string;
  remaining?: number;
}

/** Clusters > namespaces > PVCs > backups, each level fetched when it is expanded. */
export class VolumeTreeProvider implements vscode.TreeDataProvider<VolumeTreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<VolumeTreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly connected = new vscode.EventEmitter<ClusterNode>();
  /** Fires each time a cluster's namespaces were listed: the cluster answered. */
  readonly onDidConnect = this.connected.event;
  private readonly subscriptions: vscode.Disposable[];
  /** The pages of claims loaded so far, per namespace node. */
  private readonly loaded = new Map<string, LoadedClaims>();
  /** A whole-tree redraw asked for and not yet sent, and how many levels the tree is still fetching. */
  private redrawTimer: NodeJS.Timeout | undefined;
  private redrawWaiting = false;
  private fetching = 0;

  constructor(
    private readonly connections: ClusterConnections,
    private readonly settings: ExtensionSettings,
    private readonly history: HistoryService,
    private readonly state: vscode.Memento,
    private readonly log: vscode.LogOutputChannel,
  ) {
    // New history rows change only the icons and backup nodes: the claims already loaded stay.
    this.subscriptions = [connections.onDidChange(() => this.refresh()), settings.onDidChange(() => this.refresh()), history.onDidChange(() => this.redraw())];
  }

  /**
   * Redraws the whole tree once for a burst of changes (a run's history rows, the claim a restore created), and
   * never while the tree is still fetching a level: a second refresh during the first one makes the
   * workbench forget which claims were expanded.
   */
  private redraw(): void {
    if (this.redrawTimer || this.redrawWaiting) return;
    this.redrawTimer = setTimeout(() => {
      this.redrawTimer = undefined;
      this.redrawWaiting = true;
      this.redrawWhenIdle();
    }, REDRAW_DELAY_MS);
  }

  private redrawWhenIdle(): void {
    if (!this.redrawWaiting || this.fetching > 0) return;
    this.redrawWaiting = false;
    this.changed.fire(undefined);
  }

  /** A claim was created or deleted in this namespace: its list is read again, the rest of the tree stays. */
  claimsChanged(context: string, namespace: string): void {
    this.loaded.delete(namespaceNodeId(context, namespace));
    this.redraw();
  }

  refresh(node?: VolumeTreeNode): void {
    const id = node && nodeId(node);
    for (const key of [...this.loaded.keys()]) if (id === undefined || key === id || key.startsWith(`${id}/`)) this.loaded.delete(key);
    this.changed.fire(node);
  }

  /** Appends the next page of a namespace's claims. A continue token that expired starts the list again. */
  async loadMore(node: MoreNode): Promise<void> {
    const namespace = node.parent;
    const key = nodeId(namespace)!;
    const claims = this.loaded.get(key);
    if (!claims?.continueToken) return;
    try {
      const page = await this.fetchClaims(namespace, claims.continueToken);
      claims.volumes.push(...page.volumes);
      claims.warnings.push(...page.warnings);
      claims.continueToken = page.continueToken;
      claims.remaining = page.remaining;
      this.changed.fire(namespace);
    } catch (e) {
      this.log.warn(`[tree] the next page of claims in ${namespace.namespace} could not be read, starting again: ${(e as Error).message}`);
      this.refresh(namespace);
    }
  }

  namespaceFilter(context: string): string | undefined {
    return this.state.get<Record<string, string>>(NAMESPACE_FILTERS_KEY, {})[context] || undefined;
  }

  async setNamespaceFilter(context: string, filter: string): Promise<void> {
    const all = { ...this.state.get<Record<string, string>>(NAMESPACE_FILTERS_KEY, {}) };
    if (filter) all[context] = filter;
    else delete all[context];
    await this.state.update(NAMESPACE_FILTERS_KEY, all);
  }

  getTreeItem(node: VolumeTreeNode): vscode.TreeItem {
    return treeItemOf(node);
  }

  getParent(node: VolumeTreeNode): VolumeTreeNode | undefined {
    return node.kind === 'cluster' ? undefined : node.parent;
  }

  async getChildren(node?: VolumeTreeNode): Promise<VolumeTreeNode[]> {
    this.fetching++;
    try {
      return await this.children(node);
    } finally {
      this.fetching--;
      // Let the workbench take in this level before a waiting redraw starts the next pass.
      setTimeout(() => this.redrawWhenIdle(), 0);
    }
  }

  private async children(node?: VolumeTreeNode): Promise<VolumeTreeNode[]> {
    try {
      if (!node) return this.clusters();
      switch (node.kind) {
        case 'cluster':
          return await this.namespaces(node);
        case 'namespace':
          return await this.volumes(node);
        case 'pvc':
          return await this.backups(node);
        default:
          return [];
      }
    } catch (e) {
      const message = (e as Error).message;
      this.log.error(`[tree] ${message}`);
      const text = node?.kind === 'cluster' ? `Connection failed: ${message}` : message;
      return [{ kind: 'message', parent: node, text, detail: message, severity: 'error' }];
    }
  }

  private clusters(): VolumeTreeNode[] {
    const contexts = this.connections.contexts();
    const problems: MessageNode[] = this.connections.problems.map((p) => ({ kind: 'message', text: p, severity: 'warning' }));
    return [...contexts.map((context): ClusterNode => ({ kind: 'cluster', context })), ...(contexts.length ? problems : [])];
  }

  private async namespaces(node: ClusterNode): Promise<VolumeTreeNode[]> {
    const settings = this.settings.resolve().settings;
    const filter = this.namespaceFilter(node.context.name);
    const listing = await engine.discovery().listNamespaces(this.connections.configFor(node.context.name), {
      namespaceFilter: filter,
      maxNamespaceScan: settings.maxNamespaceScan,
      timeoutSeconds: settings.discoveryTimeoutSeconds,
    });
    this.connected.fire(node);
    const out: VolumeTreeNode[] = listing.namespaces.map((namespace): NamespaceNode => ({ kind: 'namespace', parent: node, namespace }));
    if (filter) out.unshift({ kind: 'message', parent: node, text: `Filter: ${filter}`, detail: 'Change it with "Filter Namespaces..."', severity: 'info' });
    if (listing.namespacesTruncated) {
      out.push({ kind: 'message', parent: node, text: `Only the first ${settings.maxNamespaceScan} namespaces are shown (nkvm.maxNamespaceScan)`, severity: 'warning' });
    }
    for (const w of listing.warnings) out.push({ kind: 'message', parent: node, text: w, severity: 'warning' });
    if (!listing.namespaces.length) out.push({ kind: 'message', parent: node, text: filter ? 'No namespace matches the filter' : 'No namespaces', severity: 'info' });
    return out;
  }

  private async fetchClaims(node: NamespaceNode, continueToken?: string): Promise<LoadedClaims> {
    const settings = this.settings.resolve().settings;
    const page = await engine.discovery().listVolumesInNamespace(this.connections.configFor(node.parent.context.name), node.namespace, {
      timeoutSeconds: settings.discoveryTimeoutSeconds,
      limit: CLAIMS_PAGE_SIZE,
      continueToken,
    });
    return { volumes: [...page.volumes], warnings: [...page.warnings], continueToken: page.continueToken, remaining: page.remainingItemCount };
  }

  private async volumes(node: NamespaceNode): Promise<VolumeTreeNode[]> {
    const key = nodeId(node)!;
    let result = this.loaded.get(key);
    if (!result) {
      result = await this.fetchClaims(node);
      this.loaded.set(key, result);
    }
    const history = await this.history.open();
    const out: VolumeTreeNode[] = [];
    for (const volume of result.volumes) {
      const [lastBackup] = await history.forPvc(node.parent.context.name, node.namespace, volume.name, 1);
      out.push({ kind: 'pvc', parent: node, volume: { ...volume, context: node.parent.context.name }, lastBackup } satisfies PvcNode);
    }
    if (result.continueToken) out.push({ kind: 'more', parent: node, remaining: result.remaining });
    for (const w of result.warnings) out.push({ kind: 'message', parent: node, text: w, severity: 'warning' });
    if (!result.volumes.length) out.push({ kind: 'message', parent: node, text: 'No PersistentVolumeClaims', severity: 'info' });
    return out;
  }

  private async backups(node: PvcNode): Promise<VolumeTreeNode[]> {
    const history = await this.history.open();
    const rows = await history.forPvc(node.parent.parent.context.name, node.parent.namespace, node.volume.name, 20);
    if (!rows.length) return [{ kind: 'message', parent: node, text: 'No backups yet', severity: 'info' }];
    return rows.map((record) => ({ kind: 'backup', parent: node, record }));
  }

  dispose(): void {
    clearTimeout(this.redrawTimer);
    this.redrawWaiting = false;
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
    this.connected.dispose();
  }
}
