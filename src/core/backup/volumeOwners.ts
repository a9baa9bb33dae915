import { DATA_MOUNT } from './helperPodSpec';

export const OWNERS_PREFIX = 'nkvm-owner';

/** Who owns the entries at the top of a volume (the root folder itself and `lost+found` left out). */
export interface VolumeOwners {
  /** One row per uid:gid pair, most entries first. */
  owners: { uid: number; gid: number; entries: number }[];
  /** The volume's root folder, which the file system or the kubelet set, not the workload. */
  root?: { uid: number; gid: number; mode: number };
}

/**
 * A read-only look at the owners of the entries at the top of the volume: names never leave the pod,
 * only `uid gid` pairs, so any name is fine. `stat -c` with `%u %g %a` is the same in BusyBox and
 * GNU coreutils; a non-root helper may stat what it cannot read, since only the folder's search bit counts.
 * One `stat` for many entries (`find -exec ... {} +`), not one per entry: a volume with thousands of
 * folders at its top is probed in a fraction of a second.
 */
export function volumeOwnersCommand(): string[] {
  const script = [
    `cd ${DATA_MOUNT} || exit 2`,
    `echo "${OWNERS_PREFIX} root $(stat -c '%u %g %a' .)"`,
    `find . -mindepth 1 -maxdepth 1 ! -name lost+found -exec stat -c '${OWNERS_PREFIX} entry %u %g' {} +`,
  ].join('\n');
  return ['sh', '-c', script];
}

export function parseVolumeOwners(stdout: string): VolumeOwners {
  const counts = new Map<string, { uid: number; gid: number; entries: number }>();
  let root: VolumeOwners['root'];
  for (const line of stdout.split('\n')) {
    const m = new RegExp(`^${OWNERS_PREFIX} (root|entry) (\\d+) (\\d+)(?: ([0-7]+))?$`).exec(line.trim());
    if (!m) continue;
    const uid = Number(m[2]);
    const gid = Number(m[3]);
    if (m[1] === 'root') {
      root = { uid, gid, mode: parseInt(m[4] ?? '0', 8) };
      continue;
    }
    const key = `${uid}:${gid}`;
    const row = counts.get(key) ?? { uid, gid, entries: 0 };
    row.entries++;
    counts.set(key, row);
  }
  return { owners: [...counts.values()].sort((a, b) => b.entries - a.entries || a.uid - b.uid), ...(root ? { root } : {}) };
}

export type OwnerDecision =
  /** Nothing on the volume tells: keep the helper's own user. */
  | { kind: 'keep' }
  /** One non-root user owns everything at the top: run as that user (and its most common group). */
  | { kind: 'owner'; uid: number; gid: number }
  /** Root, or several users, own files: only root reads (or writes) them all. */
  | { kind: 'mixed'; uids: number[] };

/**
 * The user a helper should run as to read (or replace) every file of the volume, from the owners at
 * its top: one non-root uid is enough to run as (Pod Security "restricted" allows any non-zero uid);
 * root or a mix needs root.
 */
export function decideOwner(found: VolumeOwners, currentUid: number): OwnerDecision {
  const uids = [...new Set(found.owners.map((o) => o.uid))].sort((a, b) => a - b);
  if (!uids.length) return { kind: 'keep' };
  if (uids.length === 1 && uids[0] !== 0) {
    if (uids[0] === currentUid) return { kind: 'keep' };
    return { kind: 'owner', uid: uids[0]!, gid: found.owners[0]!.gid };
  }
  return { kind: 'mixed', uids };
}

/** "uid 999 (3 entries), uid 0 (1 entry)" */
export function describeOwners(found: VolumeOwners): string {
  const byUid = new Map<number, number>();
  for (const o of found.owners) byUid.set(o.uid, (byUid.get(o.uid) ?? 0) + o.entries);
  return [...byUid].map(([uid, n]) => `uid ${uid}${uid === 0 ? ' (root)' : ''} (${n} ${n === 1 ? 'entry' : 'entries'})`).join(', ');
}

export type RestoreOwnerDecision =
  /** The helper may write what is there. */
  | { kind: 'keep' }
  /** One other non-root user owns everything: write as that user, so the files stay theirs. */
  | { kind: 'owner'; uid: number; gid: number }
  /** Nothing but the file system's own folder, under a root folder the helper may not write: ask for fsGroup. */
  | { kind: 'takeEmptyRoot' }
  /** Root or several users own files a non-root helper could neither replace nor give back. */
  | { kind: 'refuse'; uids: number[] };

/**
 * Who a restore into an existing claim should write as, from the owners at the top of its volume.
 * fsGroup is asked for only when the volume holds nothing yet: on a volume with files the kubelet
 * would change the group of every one of them.
 */
export function decideRestoreOwner(found: VolumeOwners, helper: { runAsUser: number; runAsGroup?: number; supplementalGroups?: number[] }): RestoreOwnerDecision {
  if (!found.owners.length) return found.root && !rootWritable(found.root, helper) ? { kind: 'takeEmptyRoot' } : { kind: 'keep' };
  const decision = decideOwner(found, helper.runAsUser);
  if (decision.kind === 'mixed') return { kind: 'refuse', uids: decision.uids };
  return decision;
}

function rootWritable(root: NonNullable<VolumeOwners['root']>, helper: { runAsUser: number; runAsGroup?: number; supplementalGroups?: number[] }): boolean {
  if (helper.runAsUser === 0) return true;
  if (root.uid === helper.runAsUser) return (root.mode & 0o300) === 0o300;
  const groups = [helper.runAsGroup, ...(helper.supplementalGroups ?? [])];
  if (groups.includes(root.gid)) return (root.mode & 0o030) === 0o030;
  return (root.mode & 0o003) === 0o003;
}
