import { backupFromArgument } from './backupArgument';
import type { NkvmCommand } from './commandDeps';
import { chooseRestoreDestination } from './restoreDestination';

export const restoreBackupCommand: NkvmCommand = {
  id: 'nkvm.restoreBackup',
  async run(deps, arg?: unknown) {
    const record = await backupFromArgument(deps, arg, 'Restore a Backup');
    if (!record?.backupPath) return undefined;
    const request = await chooseRestoreDestination(deps, record, []);
    if (!request) return undefined;
    return deps.restores.run({ ...request, archivePath: record.backupPath }, `the backup of ${record.pvcName}`);
  },
};
