import * as vscode from 'vscode';
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
    // A pod of the batch running in this window is not a leftover.
    const running = deps.backups.isRunning ? new Set(deps.backups.latestRun()?.rows.map((r) => r.helperPod).filter(Boolean)) : new Set<string | undefined>();
    const leftovers = found.filter((p) => !running.has(p.name));
    if (!leftovers.length) {
      void vscode.window.showInformationMessage(`No leftover helper pods in ${context}.`);
      return;
    }
    const detail = leftovers.map((p) => `${p.namespace}/${p.name} (${p.phase ?? 'unknown'}, ${Math.round(p.ageSeconds / 60)} min old${p.pvc ? `, volume ${p.pvc}` : ''})`).join('\n');
    const go = await vscode.window.showWarningMessage(`Delete ${leftovers.length} helper pod(s) labelled app.kubernetes.io/component=backup-helper in ${context}?`, { modal: true, detail }, 'Delete');
    if (go !== 'Delete') return;
    const failures = await engine.helpers().deleteHelperPods(kubeConfig, leftovers);
    deps.log.info(`[helpers] deleted ${leftovers.length - failures.length} leftover helper pod(s) in ${context}`);
    if (failures.length) throw new Error(`Could not delete ${failures.map((f) => `${f.pod.namespace}/${f.pod.name}: ${f.error}`).join('; ')}`);
    void vscode.window.showInformationMessage(`Deleted ${leftovers.length} leftover helper pod(s).`);
  },
};
