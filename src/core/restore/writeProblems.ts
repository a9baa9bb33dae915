/** Why the helper could not write the volume, read from tar's and rm's messages. */
export type WriteProblemKind = 'permission' | 'readOnly' | 'noSpace';

export interface WriteProblems {
  kind: WriteProblemKind;
  /** The first paths named (relative to the volume root), each once. */
  paths: string[];
  count: number;
}

const SHOWN = 5;

/**
 * BusyBox: `tar: can't create directory './a': Permission denied`, `tar: can't remove old file ./b:
 * Permission denied`, `rm: can't remove './c': Permission denied`. GNU: `tar: ./a: Cannot mkdir: Permission
 * denied`, `tar: ./b: Cannot open: Read-only file system`, `rm: cannot remove './c': Permission denied`,
 * `tar: ./d: Cannot write: No space left on device`. Lines about the volume root (`.`) are left out: they
 * are what the helper may not change about the mount point, reported apart as warnings.
 */
export function writeProblemOf(line: string): { kind: WriteProblemKind; path?: string } | undefined {
  const kind: WriteProblemKind | undefined = /Permission denied$/.test(line)
    ? 'permission'
    : /Read-only file system$/.test(line)
      ? 'readOnly'
      : /No space left on device$/.test(line)
        ? 'noSpace'
        : undefined;
  if (!kind) return undefined;
  const m =
    /^(?:tar|rm): (?:can't (?:create directory|open|remove old file|remove|create (?:symlink|hardlink) from)|cannot remove) '?(.+?)'?(?: to .+)?: [^:]+$/.exec(line) ??
    /^tar: (.+?): (?:Cannot [a-z]+(?: [a-z]+)*|Cannot create symlink to .+|Cannot hard link to .+): [^:]+$/.exec(line);
  const path = m?.[1]?.replace(/^\.\//, '');
  if (path === '.' || path === '') return undefined;
  return { kind, ...(path ? { path } : {}) };
}

/** The most telling problem among the messages (full volume, then read-only, then permissions), or undefined. */
export function writeProblems(messages: readonly string[]): WriteProblems | undefined {
  const found = new Map<WriteProblemKind, Set<string>>();
  const counts = new Map<WriteProblemKind, number>();
  for (const line of messages) {
    const p = writeProblemOf(line);
    if (!p) continue;
    counts.set(p.kind, (counts.get(p.kind) ?? 0) + 1);
    const paths = found.get(p.kind) ?? new Set<string>();
    if (p.path && paths.size < SHOWN) paths.add(p.path);
    found.set(p.kind, paths);
  }
  for (const kind of ['noSpace', 'readOnly', 'permission'] as const) {
    if (counts.has(kind)) return { kind, paths: [...found.get(kind)!], count: counts.get(kind)! };
  }
  return undefined;
}

export interface WriteProblemContext {
  namespace: string;
  pvc: string;
  /** Who the helper ran as, in words (see describeIdentity). */
  runAs: string;
  runsAsRoot: boolean;
  newClaim: boolean;
}

/** The cause in words and the next step, instead of advice about the network. */
export function describeWriteProblems(problems: WriteProblems, ctx: WriteProblemContext): { cause: string; nextStep: string } {
  const named = problems.paths.length ? `: ${problems.paths.join(', ')}${problems.count > problems.paths.length ? ', ...' : ''}` : '';
  switch (problems.kind) {
    case 'noSpace':
      return {
        cause: `the volume ${ctx.namespace}/${ctx.pvc} is full (No space left on device${named})`,
        nextStep: 'Restore into a new claim (it is sized from the archive), or free space in this one or expand it, then restore again with emptyFirst.',
      };
    case 'readOnly':
      return {
        cause: `the volume ${ctx.namespace}/${ctx.pvc} is mounted read-only (Read-only file system${named})`,
        nextStep: 'The claim is ReadOnlyMany or its storage mounts it read-only: restore into a writable claim, such as a new one.',
      };
    case 'permission': {
      const cause = `the helper, running as ${ctx.runAs}, may not write ${problems.count === 1 ? 'one path' : `${problems.count} paths`} (Permission denied${named})`;
      if (ctx.runsAsRoot) {
        return { cause, nextStep: 'Even root was refused: the storage refuses root (NFS root squash) or an admission policy removed capabilities; restore into a new claim, or ask the storage administrator.' };
      }
      const owner = `run the helper as the files' owner (nkvm.helper.runAsUser, e.g. {"${ctx.namespace}/${ctx.pvc}": "999:999"}) or as root where the namespace allows it (nkvm.helper.runAsRoot, not under Pod Security "restricted")`;
      return {
        cause,
        nextStep: ctx.newClaim
          ? `The new claim's storage did not make its root folder writable for the helper's group (drivers without fsGroup support, such as NFS, do not): ${owner}.`
          : `The files or folders there belong to another user: ${owner}, then restore again with emptyFirst.`,
      };
    }
  }
}
