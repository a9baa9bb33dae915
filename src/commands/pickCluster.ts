import * as vscode from 'vscode';
import type { CommandDeps } from './commandDeps';

/** The cluster a command applies to: the tree node's, the only one, or the user's pick. */
export async function pickCluster(deps: CommandDeps, placeHolder: string): Promise<string | undefined> {
  const contexts = deps.connections.contexts();
  if (!contexts.length) throw new Error('No cluster is configured: set nkvm.kubeconfigPath or KUBECONFIG.');
  if (contexts.length === 1) return contexts[0].name;
  const pick = await vscode.window.showQuickPick(
    contexts.map((c) => ({ label: c.name, description: c.current ? 'current context' : c.server })),
    { placeHolder },
  );
  return pick?.label;
}
