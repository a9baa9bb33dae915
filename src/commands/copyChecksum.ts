import * as vscode from 'vscode';
import type { VolumeTreeNode } from '../tree/volumeTreeNodes';
import type { NkvmCommand } from './commandDeps';

export const copyChecksumCommand: NkvmCommand = {
  id: 'nkvm.copyChecksum',
  async run(_deps, node?: unknown) {
    const n = node as VolumeTreeNode | undefined;
    if (n?.kind !== 'backup' || !n.record.checksum) throw new Error('This backup has no checksum.');
    await vscode.env.clipboard.writeText(n.record.checksum);
    void vscode.window.setStatusBarMessage(`Copied sha256 ${n.record.checksum.slice(0, 12)}…`, 3000);
  },
};
