import type { BackupTarget } from '../core/backup/backupVolume';
import { pickTargets, selectedTargets } from './backupTargets';
import type { NkvmCommand } from './commandDeps';
import { kubernetesExplorerTarget } from './kubernetesExplorerTarget';

export const backupVolumesCommand: NkvmCommand = {
  id: 'nkvm.backupVolumes',
  async run(deps, clicked?: unknown, selected?: unknown) {
    // Called from the report with explicit targets, from the tree with nodes, or from the palette with nothing.
    const explicit = Array.isArray(clicked) && clicked.every((t) => t && typeof t === 'object' && 'pvc' in t) ? (clicked as BackupTarget[]) : undefined;
    const fromKubernetesExplorer = explicit ? undefined : await kubernetesExplorerTarget(clicked, deps.connections.contexts().find((c) => c.current)?.name);
    const targets = explicit ?? (fromKubernetesExplorer ? [fromKubernetesExplorer] : selectedTargets(clicked, selected));
    const chosen = targets.length ? targets : await pickTargets(deps);
    if (!chosen.length) return undefined;
    return deps.backups.run(chosen);
  },
};
