import type { VolumeTreeNode } from '../tree/volumeTreeNodes';
import type { NkvmCommand } from './commandDeps';

export const refreshCommand: NkvmCommand = {
  id: 'nkvm.refresh',
  run(deps, node?: unknown) {
    if (!node) deps.connections.reload();
    deps.tree.refresh(node as VolumeTreeNode | undefined);
  },
};
