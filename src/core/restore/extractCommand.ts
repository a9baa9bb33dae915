import { DATA_MOUNT } from '../backup/helperPodSpec';

export const RESTORED_PREFIX = 'nkvm-restored';

export interface ExtractOptions {
  /** Remove everything already in the volume (dotfiles included) before extracting. */
  emptyFirst: boolean;
  /** Archive members to extract, spelled as the archive spells them; all when empty. */
  members: readonly string[];
  /** A `.tar.gz`; false for a plain `.tar`. */
  gzipped: boolean;
}

/**
 * The shell run in the restore helper: the tar (gzip'd or not) arrives on stdin and is extracted into the
 * volume; then the files tar reports having written are stat'ed, and one line on stdout tells how
 * many regular files and bytes the volume now holds under those names. BusyBox only (the default
 * image is alpine): `tar x` with -C, -v and --numeric-owner, `find -exec {} +`, `xargs -0 -r`.
 */
export function extractCommand(options: ExtractOptions): string[] {
  const members = options.members.map((m) => shellWord(escapeGlob(m))).join(' ');
  const script = [
    `cd ${DATA_MOUNT} || exit 2`,
    't=$(mktemp -d) || exit 2',
    ...(options.emptyFirst
      ? // lost+found belongs to the file system (fsck recreates it), not to the data being restored.
        [`find . -mindepth 1 -maxdepth 1 ! -name lost+found -exec rm -rf -- {} + || { echo "could not empty ${DATA_MOUNT}" >&2; exit 3; }`]
      : []),
    // As non-root, tar creates entries through the umask and never chmods them back: 1777 would become 1755.
    'umask 0',
    // Numeric owners: the image's /etc/passwd knows nothing of the workload's users. As non-root,
    // BusyBox tar skips the chown by itself. Modes, symlinks and empty folders are kept by default.
    `tar x${options.gzipped ? 'z' : ''}vf - -C ${DATA_MOUNT} --numeric-owner${members ? ` -- ${members}` : ''} > "$t/list"`,
    'rc=$?',
    'if [ "$rc" -ne 0 ]; then rm -rf "$t"; exit "$rc"; fi',
    // Counted from the volume itself after tar ended: what was written, not what tar meant to write.
    `sed 's|^|./|' "$t/list" | tr '\\n' '\\000' | xargs -0 -r stat -c '%s %F' | awk '/regular/ { n++; s += $1 } END { printf "${RESTORED_PREFIX} files=%d bytes=%.0f\\n", n, s }'`,
    'rm -rf "$t"',
  ].join('\n');
  return ['sh', '-c', script];
}

export interface RestoredCount {
  files: number;
  bytes: number;
}

/** The helper's count of what it wrote, from its stdout; undefined when the line is missing. */
export function parseRestoredCount(stdout: string): RestoredCount | undefined {
  const m = new RegExp(`^${RESTORED_PREFIX} files=(\\d+) bytes=(\\d+)$`, 'm').exec(stdout);
  return m ? { files: Number(m[1]), bytes: Number(m[2]) } : undefined;
}

/** tar matches member names as fnmatch patterns; a name with `*`, `?` or `[` must match only itself. */
function escapeGlob(name: string): string {
  return name.replace(/[\\*?[]/g, (c) => `\\${c}`);
}

function shellWord(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
