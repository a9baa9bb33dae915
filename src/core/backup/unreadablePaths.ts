import type { TarStderrSummary } from './tarStderr';

/** A tar message that makes a backup partial rather than failed: a path it could not read, or one that changed. */
export type ReadProblem = { kind: 'unreadable'; path: string } | { kind: 'changed'; path: string } | { kind: 'closing' };

/**
 * BusyBox says `tar: can't open './a': Permission denied` for files and `tar: ./dir: Permission denied`
 * for folders; GNU tar says `tar: ./a: Cannot open: Permission denied` (also `Cannot opendir`,
 * `Cannot stat`, `Cannot savedir`). Both may say `file changed as we read it` (GNU also `File shrank by N
 * bytes; padding with zeros` and `File removed before we read it`), and each closes with its
 * own line about the exit status. Paths are shown relative to the volume root.
 */
export function readProblemOf(line: string): ReadProblem | undefined {
  if (/^tar: (?:Exiting with failure status due to previous errors|error exit delayed from previous errors)$/.test(line)) return { kind: 'closing' };
  // A name an incremental backup asked for that was deleted after the listing: BusyBox says `tar: ./a: No such
  // file or directory`, GNU `tar: ./a: Cannot stat: No such file or directory`.
  const changed =
    /^tar: (.+): (?:file changed as we read it|File shrank by \d+ bytes; padding with zeros|File removed before we read it)$/.exec(line) ??
    /^tar: (.+?): (?:Cannot stat: )?No such file or directory$/.exec(line);
  if (changed) return { kind: 'changed', path: relative(changed[1]) };
  const m = /^tar: can't open '(.+)': Permission denied$/.exec(line) ?? /^tar: (.+?): (?:Cannot (?:open|opendir|stat|savedir): )?Permission denied$/.exec(line);
  return m ? { kind: 'unreadable', path: relative(m[1]) } : undefined;
}

function relative(path: string): string {
  return path.replace(/^\.\//, '');
}

/** Paths tar could not read, from its stderr lines, each once. */
export function unreadablePaths(messages: readonly string[]): string[] {
  const paths = messages.map(readProblemOf).flatMap((p) => (p?.kind === 'unreadable' ? [p.path] : []));
  return [...new Set(paths)];
}

/** "3 unreadable files: a, b, c" or, past `shown` names, "20000 unreadable files, first ones: a, b, c, d, e". */
export function describeUnreadable(count: number, names: readonly string[], shown = 5): string {
  const listed = names.slice(0, shown);
  const noun = count === 1 ? 'file' : 'files';
  return `${count} unreadable ${noun}${count > listed.length ? ', first ones' : ''}: ${listed.join(', ')}`;
}

/**
 * The message and next step of a partial backup. Unreadable paths are counted and the first ones
 * named (the helper's user explains why); otherwise tar's last lines, which say what changed while it read.
 */
export function partialOutcome(stderr: TarStderrSummary, runAs: string | undefined, owners?: string): { message: string; nextStep: string } {
  const { unreadable } = stderr;
  if (unreadable.count) {
    return {
      message: `Partial backup: ${describeUnreadable(unreadable.count, unreadable.paths)}${runAs ? ` (not readable by the helper running as ${runAs})` : ''}` +
        `${owners ? `; the files at the top of the volume belong to ${owners}` : ''}`,
      nextStep:
        'The archive is kept but marked partial, without those paths. To include them, run the helper as their owner (the pod that mounts the volume sets runAsUser or fsGroup, ' +
        'or nkvm.helper.runAsUser names the user for this claim) or as root where the namespace allows it (nkvm.helper.runAsRoot, not under Pod Security "restricted").',
    };
  }
  return {
    message: `Partial backup: tar reported files that changed or could not be read (${stderr.tail.slice(-3).join(' | ') || 'no details'})`,
    nextStep: 'Stop writes to the volume (or scale its workload down) and back up again; the archive is kept but marked partial.',
  };
}
