import type { LeftoverHelper } from './leftoverHelpers';

/** `media/nkvm-backup-x`, `VolumeSnapshot media/nkvm-snap-x`, `temporary claim media/nkvm-snap-x`. */
export function leftoverLabel(h: Pick<LeftoverHelper, 'kind' | 'namespace' | 'name'>): string {
  const name = `${h.namespace}/${h.name}`;
  return h.kind === 'snapshot' ? `VolumeSnapshot ${name}` : h.kind === 'claim' ? `temporary claim ${name}` : name;
}
