import * as vscode from 'vscode';
import { engine } from '../services/engine';
import type { NkvmCommand } from './commandDeps';

export const addKubeconfigCommand: NkvmCommand = {
  id: 'nkvm.addKubeconfig',
  /** From the clipboard, or with (text, name) when called programmatically. */
  async run(deps, givenText?: unknown, givenName?: unknown) {
    const text = typeof givenText === 'string' ? givenText : await vscode.env.clipboard.readText();
    const { parseKubeconfigText, KubeconfigTextError } = engine.kubeconfigText();
    let contexts: string[];
    try {
      contexts = parseKubeconfigText(text).contexts.map((c) => c.name);
    } catch (e) {
      if (e instanceof KubeconfigTextError) {
        deps.log.warn(`[kubeconfig] not added: ${e.problems.join('; ')}`);
        void vscode.window.showErrorMessage(`The clipboard does not hold a usable kubeconfig: ${e.problems.join('; ')}.`);
        return undefined;
      }
      throw e;
    }
    const name =
      typeof givenName === 'string'
        ? givenName
        : await vscode.window.showInputBox({
            title: 'Add pasted kubeconfig',
            prompt: `Contexts: ${contexts.join(', ')}. It is kept in VS Code's secret storage, not in settings.`,
            value: contexts[0],
            validateInput: (v) => (v.trim() ? undefined : 'Give it a name'),
          });
    if (!name?.trim()) return undefined;
    await deps.pasted.add(name.trim(), text);
    deps.log.info(`[kubeconfig] added pasted kubeconfig "${name.trim()}" with context(s) ${contexts.join(', ')}`);
    return contexts;
  },
};
