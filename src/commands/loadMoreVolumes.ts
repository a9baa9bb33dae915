import type { MoreNode } from '../tree/volumeTreeNodes';
import type { NkvmCommand } from './commandDeps';

/** The "Load more claims…" node at the end of a large namespace. */
export const loadMoreVolumesCommand: NkvmCommand = {
  id: 'nkvm.loadMoreVolumes',
  async run(deps, node?: unknown) {
    const more = node as MoreNode | undefined;
    if (more?.kind !== 'more') return;
    await deps.tree.loadMore(more);
  },
};
