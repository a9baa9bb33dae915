import * as vscode from 'vscode';
import type { BackupTarget } from '../core/backup/backupVolume';
import { engine } from '../services/engine';
import type { PvcNode, VolumeTreeNode } from '../tree/volumeTreeNodes';
import type { CommandDeps } from './commandDeps';

export function targetOf(node: PvcNode): BackupTarget {
  return { context: node.parent.parent.context.name, namespace: node.parent.namespace, pvc: node.volume.name };
}

/** The PVCs selected in the tree (a right-click on one of several selected rows acts on all of them). */
export function selectedTargets(clicked: unknown, selected: unknown): BackupTarget[] {
  const nodes = (Array.isArray(selected) && selected.length ? selected : clicked ? [clicked] : []) as VolumeTreeNode[];
  return nodes.filter((n): n is PvcNode => n?.kind === 'pvc').map(targetOf);
}

/** A multi-select quick pick of every bound volume in the configured clusters. */
export async function pickTargets(deps: CommandDeps): Promise<BackupTarget[]> {
  const settings = deps.settings.resolve().settings;
  const contexts = deps.connections.contexts();
  if (!contexts.length) throw new Error('No cluster is configured: set nkvm.kubeconfigPath or KUBECONFIG.');
  const quickPick = vscode.window.createQuickPick<vscode.QuickPickItem & { target?: BackupTarget }>();
  quickPick.canSelectMany = true;
  quickPick.title = 'Back up volumes';
  quickPick.placeholder = 'Loading volumes...';
  quickPick.busy = true;
  quickPick.matchOnDescription = true;
  quickPick.show();
  try {
    const items: (vscode.QuickPickItem & { target?: BackupTarget })[] = [];
    for (const c of contexts) {
      const inventory = await engine.discovery().discoverVolumes(deps.connections.configFor(c.name), {
        namespaceFilter: deps.tree.namespaceFilter(c.name),
        maxNamespaceScan: settings.maxNamespaceScan,
        timeoutSeconds: settings.discoveryTimeoutSeconds,
      }).catch((e: Error) => {
        items.push({ label: `$(error) ${c.name}: ${e.message}`, alwaysShow: true });
        return undefined;
      });
      if (!inventory) continue;
      items.push({ label: c.name, kind: vscode.QuickPickItemKind.Separator });
      for (const v of inventory.volumes) {
        items.push({
          label: `${v.namespace}/${v.name}`,
          description: [v.capacity ?? v.requested, v.storageClass, v.phase].filter(Boolean).join(' · '),
          detail: v.consumers.length ? `used by ${v.consumers.map((x) => x.pod).join(', ')}` : undefined,
          target: { context: c.name, namespace: v.namespace, pvc: v.name },
        });
      }
    }
    quickPick.items = items;
    quickPick.placeholder = 'Select the volumes to back up';
    quickPick.busy = false;
    const picked = await new Promise<readonly (vscode.QuickPickItem & { target?: BackupTarget })[] | undefined>((resolve) => {
      quickPick.onDidAccept(() => resolve(quickPick.selectedItems));
      quickPick.onDidHide(() => resolve(undefined));
    });
    return (picked ?? []).flatMap((p) => (p.target ? [p.target] : []));
  } finally {
    quickPick.dispose();
  }
}
