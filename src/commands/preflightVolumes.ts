import * as vscode from 'vscode';
import { engine } from '../services/engine';
import { pickTargets, selectedTargets } from './backupTargets';
import type { NkvmCommand } from './commandDeps';

/** Checks what a backup of the selected volumes would meet (no helper mounts a volume) and opens the findings. */
export const preflightVolumesCommand: NkvmCommand = {
  id: 'nkvm.preflightVolumes',
  async run(deps, clicked?: unknown, selected?: unknown) {
    const chosen = selectedTargets(clicked, selected);
    const targets = chosen.length ? chosen : await pickTargets(deps);
    if (!targets.length) return undefined;
    const resolved = deps.settings.resolve().settings;
    const archive = deps.settings.archiveSettings();
    const read = { consistency: archive.consistency, snapshotStorageClass: archive.snapshotStorageClass, hooks: deps.settings.backupHookSettings() };
    const byContext = new Map<string, typeof targets>();
    for (const t of targets) byContext.set(t.context, [...(byContext.get(t.context) ?? []), t]);
    const documents: string[] = [];
    const results = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Preflight for ${targets.length} volume(s)` }, async () => {
      const all = [];
      for (const [context, list] of byContext) {
        const found = await engine.preflight().preflightVolumes(deps.connections.configFor(context), list, {
          ...deps.settings.helperPodSettings(),
          ...read,
          helperImage: resolved.helperImage,
          helperPodTimeoutSeconds: resolved.helperPodTimeoutSeconds,
        });
        documents.push(engine.preflightReport().preflightMarkdown(context, found, new Date()));
        all.push(...found);
      }
      return all;
    });
    const blocked = results.filter((r) => r.verdict === 'blocked').length;
    deps.log.info(`[preflight] ${results.map((r) => `${r.namespace}/${r.pvc}: ${r.verdict}${r.reasons.length ? ` (${r.reasons.join('; ')})` : ''}`).join('\n  ')}`);
    const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: documents.join('\n---\n\n') });
    await vscode.window.showTextDocument(document, { preview: true });
    void vscode.commands.executeCommand('markdown.showPreviewToSide', document.uri).then(undefined, () => undefined);
    if (blocked) void vscode.window.showWarningMessage(`${blocked} of ${results.length} volume(s) cannot be backed up as things stand; the preflight report says why.`);
    return results;
  },
};
