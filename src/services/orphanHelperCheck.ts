import * as vscode from 'vscode';
import type { ClusterNode } from '../tree/volumeTreeNodes';
import type { ClusterConnections } from './clusterConnections';
import { engine } from './engine';

/**
 * Looks once per cluster and window for helper pods of this tool that have ended, outlived their
 * deadline or whose lease nobody renews (a window closed mid-backup, a killed process) and offers to
 * remove them; helpers with a fresh lease are another window's work and are never offered. Runs when
 * a cluster first answers in the tree, so opening VS Code never waits for it.
 */
export class OrphanHelperCheck {
  private readonly checked = new Set<string>();

  constructor(private readonly connections: ClusterConnections, private readonly log: vscode.LogOutputChannel) {}

  onConnected(node: ClusterNode): void {
    const context = node.context.name;
    if (this.checked.has(context)) return;
    this.checked.add(context);
    void this.check(node).catch((e: Error) => this.log.info(`[helpers] could not look for leftover helper pods in ${context}: ${e.message}`));
  }

  private async check(node: ClusterNode): Promise<void> {
    const context = node.context.name;
    const orphans = await engine.helpers().findOrphanHelpers(this.connections.configFor(context));
    if (!orphans.length) return;
    this.log.warn(`[helpers] ${orphans.length} leftover helper pod(s) in ${context}:\n  ${orphans.map((o) => `${o.namespace}/${o.name}: ${o.reason}`).join('\n  ')}`);
    const pick = await vscode.window.showWarningMessage(
      `${orphans.length} backup helper pod(s) outlived their backup in ${context} (first: ${orphans[0].namespace}/${orphans[0].name}, ${orphans[0].reason}).`,
      'Remove...',
      'Show Log',
    );
    if (pick === 'Remove...') await vscode.commands.executeCommand('nkvm.removeLeftoverHelpers', node);
    else if (pick === 'Show Log') this.log.show();
  }
}
