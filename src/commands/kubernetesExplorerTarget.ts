import * as vscode from 'vscode';
import type { BackupTarget } from '../core/backup/backupVolume';

const kubernetesExtensionId = 'ms-kubernetes-tools.vscode-kubernetes-tools';

interface ExplorerResourceNode {
  nodeType: 'resource';
  namespace: string | null;
  name: string;
  resourceKind: { manifestKind: string };
}

/**
 * A PVC right-clicked in the Kubernetes extension's Cluster Explorer, resolved through that
 * extension's public API (clusterExplorer v1). Its explorer always shows the kubeconfig's current context.
 */
export async function kubernetesExplorerTarget(arg: unknown, currentContext: string | undefined): Promise<BackupTarget | undefined> {
  if (!arg || typeof arg !== 'object' || Array.isArray(arg)) return undefined;
  const extension = vscode.extensions.getExtension(kubernetesExtensionId);
  if (!extension || !currentContext) return undefined;
  const exported = (await extension.activate()) as { get?(component: string, version: string): { available: boolean; api?: { resolveCommandTarget(target: unknown): unknown } } } | undefined;
  const explorer = exported?.get?.('clusterExplorer', 'v1');
  const node = explorer?.available ? (explorer.api?.resolveCommandTarget(arg) as ExplorerResourceNode | undefined) : undefined;
  if (node?.nodeType !== 'resource' || node.resourceKind.manifestKind !== 'PersistentVolumeClaim' || !node.namespace) return undefined;
  return { context: currentContext, namespace: node.namespace, pvc: node.name };
}
