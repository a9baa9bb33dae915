import * as vscode from 'vscode';
import { engine } from '../services/engine';
import type { VolumeTreeNode } from '../tree/volumeTreeNodes';
import type { NkvmCommand } from './commandDeps';

export const backupNamespaceCommand: NkvmCommand = {
  id: 'nkvm.backupNamespace',
  async run(deps, node?: unknown) {
    const ns = node as VolumeTreeNode | undefined;
    if (ns?.kind !== 'namespace') throw new Error('Choose a namespace in the Volumes view to back up all of its volumes.');
    const context = ns.parent.context.name;
    const settings = deps.settings.resolve().settings;
    const { volumes } = await engine.discovery().listVolumesInNamespace(deps.connections.configFor(context), ns.namespace, { timeoutSeconds: settings.discoveryTimeoutSeconds });
    const bound = volumes.filter((v) => v.phase === 'Bound');
    if (!bound.length) {
      void vscode.window.showInformationMessage(`Namespace ${ns.namespace} has no bound volume to back up.`);
      return undefined;
    }
    const skipped = volumes.length - bound.length;
    const go = await vscode.window.showInformationMessage(
      `Back up ${bound.length} volume(s) in ${ns.namespace} (${context})?${skipped ? ` ${skipped} unbound claim(s) will be skipped.` : ''}`,
      { modal: true, detail: bound.map((v) => v.name).join('\n') },
      'Back Up',
    );
    if (go !== 'Back Up') return undefined;
    return deps.backups.run(bound.map((v) => ({ context, namespace: ns.namespace, pvc: v.name })));
  },
};
