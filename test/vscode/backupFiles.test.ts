import * as assert from 'node:assert/strict';
import { openSync, readSync, writeSync, closeSync } from 'node:fs';
import * as vscode from 'vscode';
import { backupUri } from '../../src/browse/backupUri';
import type { HistoryRecord } from '../../src/core/history/historyRecord';
import { ConnectedSandbox, connectSandbox } from './sandboxForTests';

describe('Backups as read-only files, and Verify', function () {
  this.timeout(90_000);
  let sb: ConnectedSandbox;
  let backup: HistoryRecord;

  before(async () => {
    sb = await connectSandbox();
    const report = (await vscode.commands.executeCommand('nkvm.backupVolumes', [{ context: 'sandbox', namespace: 'media', pvc: 'archive-2019' }])) as { rows: { state: string; message?: string }[] };
    assert.equal(report.rows[0].state, 'success', report.rows[0].message);
    const history = await sb.api.history.open();
    [backup] = await history.forPvc('sandbox', 'media', 'archive-2019', 1);
  });
  after(async () => sb?.stop());

  it('lists the archive as folders and files with their sizes, and opens a file from it in an editor', async () => {
    const root = await vscode.workspace.fs.readDirectory(backupUri(backup.id));
    assert.deepEqual(root.sort(), [['notes.txt', vscode.FileType.File], ['photos', vscode.FileType.Directory]]);
    const holiday = await vscode.workspace.fs.readDirectory(backupUri(backup.id, 'photos/2019/holiday'));
    assert.deepEqual(holiday.map(([name]) => name).sort(), ['IMG_0001.raw', 'IMG_0002.raw']);
    const stat = await vscode.workspace.fs.stat(backupUri(backup.id, 'photos/2019/holiday/IMG_0001.raw'));
    assert.equal(stat.size, 1_200_000);
    assert.equal(stat.permissions, vscode.FilePermission.Readonly);
    const document = await vscode.workspace.openTextDocument(backupUri(backup.id, 'notes.txt'));
    await vscode.window.showTextDocument(document);
    assert.equal(document.getText(), 'Nothing mounts this claim; it can be backed up at any time.\n');
  });

  it('refuses to write into a backup', async () => {
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(backupUri(backup.id, 'notes.txt'), Buffer.from('changed'))), /NoPermissions|permission|read-only|readonly/i);
  });

  it('says a path that is not in the archive does not exist', async () => {
    await assert.rejects(Promise.resolve(vscode.workspace.fs.stat(backupUri(backup.id, 'photos/missing.raw'))), /EntryNotFound|FileNotFound/);
  });

  it('Verify Backup passes an intact archive and names a flipped byte, and the backup node shows the result', async () => {
    const ok = (await vscode.commands.executeCommand('nkvm.verifyBackup', backup.id)) as { outcome: string };
    assert.equal(ok.outcome, 'ok');
    const fd = openSync(backup.backupPath!, 'r+');
    try {
      const at = 4096;
      const byte = Buffer.alloc(1);
      readSync(fd, byte, 0, 1, at);
      writeSync(fd, Buffer.from([byte[0] ^ 0xff]), 0, 1, at);
    } finally {
      closeSync(fd);
    }
    const bad = (await vscode.commands.executeCommand('nkvm.verifyBackup', backup.id)) as { outcome: string; message: string };
    assert.notEqual(bad.outcome, 'ok');
    assert.match(bad.message, /checksum|damaged|differs/i);
    const history = await sb.api.history.open();
    const row = await history.get(backup.id);
    assert.equal(row?.verifyOutcome, bad.outcome);
    const pvcNode = { kind: 'pvc', parent: { kind: 'namespace', parent: { kind: 'cluster', context: { name: 'sandbox' } }, namespace: 'media' }, volume: { name: 'archive-2019' } } as never;
    const item = sb.api.tree.getTreeItem({ kind: 'backup', parent: pvcNode, record: row! });
    assert.match(String(item.description), /archive (altered|damaged)/);
  });
});
