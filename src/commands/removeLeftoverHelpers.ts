import * as vscode from 'vscode';
import { leftoverLabel } from '../core/backup/leftoverLabel';
import { engine } from '../services/engine';
import type { VolumeTreeNode } from '../tree/volumeTreeNodes';
import type { NkvmCommand } from './commandDeps';
import { pickCluster } from './pickCluster';

export const removeLeftoverHelpersCommand: NkvmCommand = {
  id: 'nkvm.removeLeftoverHelpers',
  async run(deps, node?: unknown) {
    const clicked = node as VolumeTreeNode | undefined;
    const context = clicked?.kind === 'cluster' ? clicked.context.name : await pickCluster(deps, 'Look for leftover helper pods in which cluster?');
    if (!context) return;
    const kubeConfig = deps.connections.configFor(context);
    const found = await engine.helpers().findHelperPods(kubeConfig);
    // A helper whose lease is renewed is someone's backup or restore in progress (here or elsewhere).
    const leftovers = found.filter((p) => p.leftover);
    const inUse = found.filter((p) => !p.leftover);
    for (const p of inUse) deps.log.info(`[helpers] kept ${leftoverLabel(p)}: ${p.reason}`);
    const kept = inUse.length ? ` ${inUse.length} helper pod(s) in use were left alone.` : '';
    if (!leftovers.length) {
      void vscode.window.showInformationMessage(`No leftover helper pods in ${context}.${kept}`);
      return;
    }
    const detail = leftovers.map((p) => `${leftoverLabel(p)}${p.pvc ? ` (volume ${p.pvc})` : ''}: ${p.reason}`).join('\n');
    const go = await vscode.window.showWarningMessage(`Delete ${leftovers.length} leftover helper pod(s) in ${context}?${kept}`, { modal: true, detail }, 'Delete');
    if (go !== 'Delete') return;
    const failures = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Deleting ${leftovers.length} helper pod(s) and waiting until they are gone...` },
      () => engine.helpers().deleteHelperPods(kubeConfig, leftovers),
    );
    deps.log.info(`[helpers] deleted ${leftovers.length - failures.length} leftover helper pod(s) in ${context}`);
    if (failures.length) throw new Error(`Could not delete ${failures.map((f) => `${leftoverLabel(f.pod)}: ${f.error}`).join('; ')}`);
    void vscode.window.showInformationMessage(`Deleted ${leftovers.length} leftover helper pod(s).`);
  },
};
