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
    // The row goes along: an incremental backup restores through its chain.
    const result = await deps.restores.run({ ...request, archivePath: record.backupPath }, `the backup of ${record.pvcName}`, record);
    // A new claim belongs in the tree now, not at the next refresh.
    if (result?.claimCreated && result.status === 'success') deps.tree.claimsChanged(result.context, result.namespace);
    return result;
  },
};
