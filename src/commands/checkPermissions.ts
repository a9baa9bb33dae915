import * as vscode from 'vscode';
import { engine } from '../services/engine';
import type { VolumeTreeNode } from '../tree/volumeTreeNodes';
import type { NkvmCommand } from './commandDeps';
import { pickCluster } from './pickCluster';

export const checkPermissionsCommand: NkvmCommand = {
  id: 'nkvm.checkPermissions',
  /** For a namespace node, or a cluster and namespace picked by the user; opens the result as Markdown. */
  async run(deps, node?: unknown) {
    const clicked = node as VolumeTreeNode | undefined;
    const context = clicked?.kind === 'namespace' ? clicked.parent.context.name : clicked?.kind === 'cluster' ? clicked.context.name : await pickCluster(deps, 'Check permissions in which cluster?');
    if (!context) return undefined;
    const namespace =
      clicked?.kind === 'namespace'
        ? clicked.namespace
        : await vscode.window.showInputBox({ title: `Check permissions in ${context}`, prompt: 'Namespace whose volumes you want to back up', validateInput: (v) => (/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v) ? undefined : 'A namespace name') });
    if (!namespace) return undefined;
    const { checkPermissions, permissionLabel, summarizePermissionChecks } = engine.permissions();
    const checks = await checkPermissions(deps.connections.configFor(context), namespace);
    const rows = checks.map((c) => `| ${c.allowed ? '✓ granted' : '✗ missing'} | \`${permissionLabel(c)}\` | ${c.why.replace(/\|/g, '\\|')} | \`${c.command}\` |`);
    const denied = checks.filter((c) => !c.allowed);
    const markdown = [
      `# Backup permissions in "${namespace}" (${context})`,
      '',
      denied.length ? summarizePermissionChecks(namespace, checks) : 'Every permission a backup needs is granted.',
      '',
      '| | Permission | Why | Reproduce |',
      '|---|---|---|---|',
      ...rows,
      '',
    ].join('\n');
    deps.log.info(`[permissions] ${context}/${namespace}: ${denied.length ? `${denied.length} missing` : 'all granted'}`);
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: markdown });
    await vscode.window.showTextDocument(doc, { preview: true });
    return checks;
  },
};
