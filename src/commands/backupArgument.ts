import * as vscode from 'vscode';
import { parseBackupUri } from '../browse/backupUri';
import { hasArchive } from '../core/archive/backupArchive';
import type { HistoryRecord } from '../core/history/historyRecord';
import type { VolumeTreeNode } from '../tree/volumeTreeNodes';
import type { CommandDeps } from './commandDeps';

/**
 * The backup a command was invoked on: a backup node in the tree, a history id (report webview),
 * a `nkvm-backup:` resource (Explorer), or one the user picks from the recent backups (palette).
 */
export async function backupFromArgument(deps: CommandDeps, arg: unknown, purpose: string): Promise<HistoryRecord | undefined> {
  const store = await deps.history.open();
  let record: HistoryRecord | undefined;
  const node = arg as VolumeTreeNode | undefined;
  if (node && typeof node === 'object' && 'kind' in node && node.kind === 'backup') record = await store.get(node.record.id);
  else if (typeof arg === 'number') record = await store.get(arg);
  else if (arg instanceof vscode.Uri) record = await store.get(parseBackupUri(arg).historyId);
  else return pickBackup(deps, purpose);
  if (!record) throw new Error('That backup is no longer in the history.');
  if (!hasArchive(record)) {
    throw new Error(record.prunedAt ? `The archive of this backup was deleted by retention at ${record.prunedAt}.` : 'This backup has no archive.');
  }
  return record;
}

async function pickBackup(deps: CommandDeps, purpose: string): Promise<HistoryRecord | undefined> {
  const store = await deps.history.open();
  const recent = (await store.latest({ operation: 'backup', status: ['success', 'partial'], limit: 200 })).filter(hasArchive);
  if (!recent.length) throw new Error('There is no backup with an archive yet. Back up a volume first.');
  const pick = await vscode.window.showQuickPick(
    recent.map((record) => ({
      label: `${record.namespace}/${record.pvcName}`,
      description: `${new Date(record.createdAt).toLocaleString()}${record.context ? ` · ${record.context}` : ''}`,
      detail: record.backupPath ?? undefined,
      record,
    })),
    { title: purpose, placeHolder: 'Choose a backup', matchOnDescription: true, matchOnDetail: true },
  );
  return pick?.record;
}
