import type { NkvmCommand } from './commandDeps';
import { selectedArchivePaths } from './extractFromBackup';
import { chooseRestoreDestination } from './restoreDestination';

/** Explorer: restore the selected files and folders of an opened backup into a PVC. */
export const restoreBackupPathsCommand: NkvmCommand = {
  id: 'nkvm.restoreBackupPaths',
  async run(deps, uri?: unknown, selected?: unknown) {
    const { historyId, paths } = selectedArchivePaths(uri, selected);
    const { record, archivePath } = await deps.backupFiles.open(historyId);
    const request = await chooseRestoreDestination(deps, record, paths);
    if (!request) return undefined;
    const label = paths.length === 1 ? paths[0] : paths.length ? `${paths.length} items from the backup of ${record.pvcName}` : `the backup of ${record.pvcName}`;
    // The row goes along: an incremental backup restores the paths from its chain.
    const result = await deps.restores.run({ ...request, archivePath }, label, record);
    if (result?.claimCreated && result.status === 'success') deps.tree.claimsChanged(result.context, result.namespace);
    return result;
  },
};
