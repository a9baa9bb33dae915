import * as vscode from 'vscode';
import { formatBytes } from '../core/report/quantityText';
import { applyRetention } from '../core/retention/applyRetention';
import { planRetention } from '../core/retention/planRetention';
import type { NkvmCommand } from './commandDeps';

/** Applies nkvm.retention.*: shows the archives that would go, then deletes them and marks their rows. */
export const pruneBackupsCommand: NkvmCommand = {
  id: 'nkvm.pruneBackups',
  async run(deps) {
    const settings = deps.settings.resolve().settings;
    const policy = { keepLast: settings.retentionKeepLast, maxAgeDays: settings.retentionMaxAgeDays };
    if (!policy.keepLast && !policy.maxAgeDays) {
      const open = await vscode.window.showInformationMessage('No retention policy is set: every archive is kept. Set nkvm.retention.keepLast or nkvm.retention.maxAgeDays.', 'Open Settings');
      if (open) await vscode.commands.executeCommand('workbench.action.openSettings', 'nkvm.retention');
      return undefined;
    }
    const history = await deps.history.open();
    const plan = planRetention(await history.archivedBackups(), policy, new Date());
    if (!plan.prune.length) {
      void vscode.window.showInformationMessage(`Nothing to prune: every archive is within the policy (${policyText(policy)}).`);
      return plan;
    }
    const reasons = new Map(plan.decisions.map((d) => [d.record.id, d.reason]));
    const bytes = plan.prune.reduce((sum, r) => sum + (r.sizeBytes ?? 0), 0);
    const picked = await vscode.window.showQuickPick(
      plan.prune.map((record) => ({
        label: `${record.namespace}/${record.pvcName}`,
        description: `${new Date(record.createdAt).toLocaleString()} · ${formatBytes(record.sizeBytes ?? 0)}${record.context ? ` · ${record.context}` : ''}`,
        detail: `${reasons.get(record.id) ?? ''} · ${record.backupPath ?? ''}`,
        picked: true,
        record,
      })),
      { title: `Prune ${plan.prune.length} archive(s), ${formatBytes(bytes)} (${policyText(policy)})`, placeHolder: 'Unselect any archive to keep, then press Enter to delete the rest', canPickMany: true, matchOnDetail: true },
    );
    if (!picked?.length) return undefined;
    const confirm = `Delete ${picked.length} Archive(s)`;
    const answer = await vscode.window.showWarningMessage(
      `Delete ${picked.length} backup archive(s) (${formatBytes(picked.reduce((s, p) => s + (p.record.sizeBytes ?? 0), 0))})?`,
      { modal: true, detail: 'The files are deleted from disk; their rows stay in the history, marked as pruned.' },
      confirm,
    );
    if (answer !== confirm) return undefined;
    const chosen = new Set(picked.map((p) => p.record.id));
    const result = await applyRetention(history, { ...plan, prune: plan.prune.filter((r) => chosen.has(r.id)) });
    for (const p of result.pruned) deps.backupFiles.forget(p.id);
    deps.history.notifyChanged();
    deps.log.info(`[retention] pruned ${result.pruned.length} archive(s), freed ${formatBytes(result.pruned.reduce((s, p) => s + p.freedBytes, 0))}`);
    for (const f of result.failed) deps.log.error(`[retention] could not delete ${f.archivePath}: ${f.error}`);
    if (result.failed.length) {
      void vscode.window.showErrorMessage(`Pruned ${result.pruned.length} archive(s); ${result.failed.length} could not be deleted (first: ${result.failed[0].error}).`, 'Show Log').then((p) => p && deps.log.show());
    } else {
      void vscode.window.showInformationMessage(`Pruned ${result.pruned.length} archive(s).`);
    }
    return result;
  },
};

function policyText(policy: { keepLast: number; maxAgeDays: number }): string {
  return [policy.keepLast ? `keep the last ${policy.keepLast}` : undefined, policy.maxAgeDays ? `at most ${policy.maxAgeDays} days old` : undefined].filter(Boolean).join(', ');
}
