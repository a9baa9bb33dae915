import { existsSync } from 'node:fs';
import type { VolumeTreeNode } from '../tree/volumeTreeNodes';
import { revealPath } from './archiveLocation';
import type { NkvmCommand } from './commandDeps';

export const revealArchiveCommand: NkvmCommand = {
  id: 'nkvm.revealArchive',
  async run(_deps, node?: unknown) {
    const n = node as VolumeTreeNode | undefined;
    const path = n?.kind === 'backup' ? n.record.backupPath : typeof node === 'string' ? node : undefined;
    if (!path) throw new Error('This backup has no archive.');
    if (!existsSync(path)) throw new Error(`The archive ${path} is no longer there (moved or deleted).`);
    await revealPath(path);
  },
};
