import * as vscode from 'vscode';
import type { NkvmCommand } from './commandDeps';

export const removeKubeconfigCommand: NkvmCommand = {
  id: 'nkvm.removeKubeconfig',
  async run(deps, givenName?: unknown) {
    const names = deps.pasted.list().map((e) => e.name);
    if (!names.length) {
      void vscode.window.showInformationMessage('No pasted kubeconfig is stored.');
      return;
    }
    const name = typeof givenName === 'string' ? givenName : await vscode.window.showQuickPick(names, { placeHolder: 'Remove which pasted kubeconfig from secret storage?' });
    if (!name || !names.includes(name)) return;
    await deps.pasted.remove(name);
    deps.log.info(`[kubeconfig] removed pasted kubeconfig "${name}"`);
  },
};
