/**
 * Paths tar could not read, from its stderr lines. BusyBox says `tar: can't open './a': Permission
 * denied` for files and `tar: ./dir: Permission denied` for folders; GNU tar says
 * `tar: ./a: Cannot open: Permission denied`. Paths are shown relative to the volume root.
 */
export function unreadablePaths(messages: readonly string[]): string[] {
  const paths: string[] = [];
  for (const line of messages) {
    if (!/Permission denied/.test(line)) continue;
    const m = /can't open '(.+)': Permission denied$/.exec(line) ?? /^tar: (.+?): (?:Cannot open: |Cannot opendir: |Cannot savedir: )?Permission denied$/.exec(line);
    if (m) paths.push(m[1].replace(/^\.\//, ''));
  }
  return [...new Set(paths)];
}

/** "3 paths could not be read: a, b, c" with at most `shown` names, the rest counted. */
export function describeUnreadable(paths: readonly string[], shown = 5): string {
  const names = paths.slice(0, shown).join(', ');
  const more = paths.length > shown ? ` and ${paths.length - shown} more` : '';
  return `${paths.length} ${paths.length === 1 ? 'path' : 'paths'} could not be read: ${names}${more}`;
}

/**
 * The message and next step of a partial backup. Unreadable paths are named (the helper's user
 * explains why); otherwise tar's last lines, which say what changed while it read.
 */
export function partialOutcome(messages: readonly string[], runAs: string | undefined): { message: string; nextStep: string } {
  const unreadable = unreadablePaths(messages);
  if (unreadable.length) {
    return {
      message: `Partial backup: ${describeUnreadable(unreadable)}${runAs ? ` by the helper running as ${runAs}` : ''}`,
      nextStep:
        'The archive is kept but marked partial, without those paths. To include them, run the helper as their owner (the pod that mounts the volume sets runAsUser) or as root where the namespace allows it (nkvm.helper.runAsRoot, not under Pod Security "restricted").',
    };
  }
  return {
    message: `Partial backup: tar reported files that changed or could not be read (${messages.slice(-3).join(' | ') || 'no details'})`,
    nextStep: 'Stop writes to the volume (or scale its workload down) and back up again; the archive is kept but marked partial.',
  };
}
