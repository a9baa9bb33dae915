import * as vscode from 'vscode';
import { archiveStateText } from '../core/archive/backupArchive';
import type { VolumeInfo } from '../core/discovery/volumeInventory';
import type { HistoryStatus } from '../core/history/historyRecord';
import { drillTooltipLine } from '../core/drill/checksText';
import { statusInWords } from '../core/report/outcomeText';
import { formatBytes } from '../core/report/quantityText';
import { backupReadLines, consistencyLabel, kindLabel } from '../core/report/backupReadText';
import { contextValueOf, nodeId, VolumeTreeNode } from './volumeTreeNodes';

const statusIcon: Record<HistoryStatus, vscode.ThemeIcon> = {
  success: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  partial: new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground')),
  cancelled: new vscode.ThemeIcon('circle-slash'),
  running: new vscode.ThemeIcon('sync~spin'),
  interrupted: new vscode.ThemeIcon('debug-disconnect', new vscode.ThemeColor('list.warningForeground')),
};

export function treeItemOf(node: VolumeTreeNode): vscode.TreeItem {
  const C = vscode.TreeItemCollapsibleState;
  let item: vscode.TreeItem;
  switch (node.kind) {
    case 'cluster': {
      const c = node.context;
      item = new vscode.TreeItem(c.name, C.Collapsed);
      item.description = c.current ? 'current context' : undefined;
      item.iconPath = new vscode.ThemeIcon('server-environment');
      const md = new vscode.MarkdownString();
      md.appendText(`${c.name}\nServer: ${c.server ?? 'unknown'}\nCluster: ${c.cluster ?? '-'}\nFrom: ${c.source}${c.namespace ? `\nDefault namespace: ${c.namespace}` : ''}`);
      item.tooltip = md;
      break;
    }
    case 'namespace':
      item = new vscode.TreeItem(node.namespace, C.Collapsed);
      item.iconPath = new vscode.ThemeIcon('symbol-namespace');
      break;
    case 'pvc': {
      const v = node.volume;
      item = new vscode.TreeItem(v.name, C.Collapsed);
      item.description = describeVolume(v);
      item.tooltip = volumeTooltip(v, node.lastBackup && statusInWords(node.lastBackup.status, node.lastBackup.stage), node.lastBackup?.createdAt);
      item.iconPath = node.lastBackup ? statusIcon[node.lastBackup.status] : new vscode.ThemeIcon('database');
      break;
    }
    case 'backup': {
      const r = node.record;
      item = new vscode.TreeItem(new Date(r.createdAt).toLocaleString(), C.None);
      const archiveState = archiveStateText(r);
      item.description = [
        r.operation === 'restore' ? `restore ${statusInWords(r.status, r.stage)}` : statusInWords(r.status, r.stage),
        consistencyLabel(r, (iso) => new Date(iso).toLocaleTimeString()),
        kindLabel(r),
        r.sizeBytes !== null ? `${formatBytes(r.sizeBytes)}${r.kind === 'incremental' ? ' sent' : ''}` : undefined,
        archiveState,
        r.drillOutcome ? `drill ${r.drillOutcome}` : undefined,
      ]
        .filter(Boolean)
        .join(' · ');
      const checkFailed = (r.verifyOutcome && r.verifyOutcome !== 'ok') || r.drillOutcome === 'differs';
      item.iconPath = checkFailed && r.prunedAt === null ? new vscode.ThemeIcon('alert', new vscode.ThemeColor('list.errorForeground')) : statusIcon[r.status];
      const md = new vscode.MarkdownString();
      md.appendMarkdown(`**${r.status}** (${r.stage ?? '-'})\n\n`);
      md.appendText(`${r.message ?? ''}\n`);
      if (r.nextStep) md.appendText(`\nNext step: ${r.nextStep}\n`);
      if (r.backupPath) md.appendText(`\nArchive: ${r.backupPath}\n`);
      if (r.checksum) md.appendText(`sha256: ${r.checksum}\n`);
      const read = backupReadLines(r);
      if (read.length) md.appendText(`\n${read.join('\n')}\n`);
      if (r.verifiedAt) md.appendText(`\nVerified ${r.verifiedAt}: ${r.verifyOutcome === 'ok' ? 'intact' : (r.verifyMessage ?? r.verifyOutcome)}\n`);
      const drill = drillTooltipLine(r);
      if (drill) md.appendText(`\n${drill}\n`);
      if (r.prunedAt) md.appendText(`\nArchive deleted by retention at ${r.prunedAt}\n`);
      item.tooltip = md;
      break;
    }
    case 'more':
      item = new vscode.TreeItem('Load more claims…', C.None);
      item.description = node.remaining !== undefined ? `about ${node.remaining} more` : undefined;
      item.iconPath = new vscode.ThemeIcon('ellipsis');
      item.command = { command: 'nkvm.loadMoreVolumes', title: 'Load More Claims', arguments: [node] };
      break;
    case 'message':
      item = new vscode.TreeItem(node.text, C.None);
      item.iconPath = new vscode.ThemeIcon(node.severity === 'error' ? 'error' : node.severity === 'warning' ? 'warning' : 'info');
      item.tooltip = node.detail ?? node.text;
      break;
  }
  item.id = nodeId(node);
  item.contextValue = contextValueOf(node);
  return item;
}

function describeVolume(v: VolumeInfo): string {
  const modes = v.accessModes.map((m) => ({ ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' })[m] ?? m).join(',');
  return [v.capacity ?? v.requested, v.storageClass, modes, v.phase].filter(Boolean).join(' · ');
}

function volumeTooltip(v: VolumeInfo, lastStatus?: string, lastAt?: string): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**`);
  md.appendText(`${v.namespace}/${v.name}`);
  md.appendMarkdown(`**\n\n`);
  md.appendText(`Phase: ${v.phase}\nCapacity: ${v.capacity ?? v.requested ?? '-'}\nStorage class: ${v.storageClass ?? '-'}\nAccess modes: ${v.accessModes.join(', ') || '-'}\nVolume: ${v.volumeName ?? 'not bound'}\n`);
  if (v.consumersUnknown) md.appendText('Used by: unknown (no permission to list pods)\n');
  else if (!v.consumers.length) md.appendText('Used by: no pod\n');
  for (const c of v.consumers) {
    const owner = c.owner ? ` (${c.owner.kind} ${c.owner.name}${c.owner.via ? ` via ${c.owner.via.kind} ${c.owner.via.name}` : ''})` : '';
    md.appendText(`Used by pod ${c.pod} on ${c.node ?? 'no node yet'}${owner}${c.readOnly ? ', read-only' : ''}\n`);
  }
  if (lastStatus) md.appendText(`\nLast backup: ${lastStatus} at ${lastAt}\n`);
  return md;
}
