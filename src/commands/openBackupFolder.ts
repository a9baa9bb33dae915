import { ensurePrivateDir } from '../core/config/ensurePrivateDir';
import { revealPath } from './archiveLocation';
import type { NkvmCommand } from './commandDeps';

export const openBackupFolderCommand: NkvmCommand = {
  id: 'nkvm.openBackupFolder',
  async run(deps) {
    const dir = deps.settings.resolve().settings.backupDir;
    await ensurePrivateDir(dir);
    await revealPath(dir);
  },
};
