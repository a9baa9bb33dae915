import * as vscode from 'vscode';
import type { VolumeTreeNode } from '../tree/volumeTreeNodes';
import type { NkvmCommand } from './commandDeps';
import { pickCluster } from './pickCluster';

export const filterNamespacesCommand: NkvmCommand = {
  id: 'nkvm.filterNamespaces',
  async run(deps, node?: unknown) {
    const clicked = node as VolumeTreeNode | undefined;
    const context = clicked?.kind === 'cluster' ? clicked.context.name : await pickCluster(deps, 'Filter the namespaces of which cluster?');
    if (!context) return;
    const value = await vscode.window.showInputBox({
      title: `Namespaces shown for ${context}`,
      prompt: 'Comma-separated names or patterns with *, e.g. "shop,team-*". Leave empty to show all.',
      value: deps.tree.namespaceFilter(context) ?? '',
      validateInput: (text) => (/^[\sa-z0-9*,.-]*$/.test(text) ? undefined : 'Use namespace names, commas and * only.'),
    });
    if (value === undefined) return;
    await deps.tree.setNamespaceFilter(context, value.trim());
    deps.log.info(`[tree] namespace filter for ${context}: ${value.trim() || '(all)'}`);
    deps.tree.refresh();
  },
};
