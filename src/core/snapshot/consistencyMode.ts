/** `auto` takes a snapshot where the claim's driver can, and reads live elsewhere, saying so. */
export const CONSISTENCY_MODES = ['auto', 'snapshot', 'live'] as const;
export type ConsistencyMode = (typeof CONSISTENCY_MODES)[number];
