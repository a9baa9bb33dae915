import { shellWord } from '../backup/archiveCommand';
import { MISSING_TOOL_TEXT } from '../backup/helperImageTools';
import { DATA_MOUNT } from '../backup/helperPodSpec';

export const RESTORED_PREFIX = 'nkvm-restored';
const ROOT_PREFIX = 'nkvm-root-mode';

export interface ExtractOptions {
  /** Remove everything already in the volume (dotfiles included) before extracting. */
  emptyFirst: boolean;
  /** Archive members to extract, spelled as the archive spells them; all when empty. */
  members: readonly string[];
  /** A `.tar.gz`; false for a plain `.tar`. */
  gzipped: boolean;
}

/** Lines GNU tar prints when it may not set the volume root's own times, mode or owner, and its closing line. */
const ROOT_METADATA_LINES = [
  "^tar: \\.: Cannot utime: ",
  "^tar: \\.: Cannot change mode to .*: Operation not permitted$",
  "^tar: \\.: Cannot change ownership to .*: Operation not permitted$",
  "^tar: Exiting with failure status due to previous errors$",
];

/**
 * The shell run in the restore helper: the tar (gzip'd or not) arrives on stdin and is extracted into the
 * volume. POSIX sh and flags BusyBox (the default image is alpine) and GNU tar both take: -p keeps the
 * archive's modes through the umask (GNU), --numeric-owner because the image's /etc/passwd knows nothing
 * of the workload's users. What was written is counted afterwards by {@link countCommand}.
 *
 * A helper that is not root may not set the times or mode of the mount point (a new volume's root
 * belongs to root): BusyBox tar says nothing, GNU tar exits 2. When GNU tar's only errors are those,
 * the restore goes on and its lines stay as warnings.
 */
export function extractCommand(options: ExtractOptions): string[] {
  const members = options.members.map((m) => shellWord(escapeGlob(m))).join(' ');
  const tools = `tar mktemp grep cat rm${options.emptyFirst ? ' find' : ''}${options.gzipped ? ' gzip' : ''}`;
  const script = [
    `for t in ${tools}; do command -v "$t" >/dev/null 2>&1 || { echo "${MISSING_TOOL_TEXT} $t" >&2; exit 127; }; done`,
    `cd ${DATA_MOUNT} || exit 2`,
    // English messages, as the checks below expect them.
    'LC_ALL=C; export LC_ALL',
    't=$(mktemp -d) || exit 2',
    ...(options.emptyFirst ? emptyLines() : []),
    // As non-root, tar creates entries through the umask: 1777 would become 1755.
    'umask 0',
    `tar x${options.gzipped ? 'z' : ''}pf - -C ${DATA_MOUNT} --numeric-owner${members ? ` -- ${members}` : ''} 2> "$t/err"`,
    'rc=$?',
    `if [ "$rc" = 2 ] && [ -s "$t/err" ] && ! grep -v ${ROOT_METADATA_LINES.map((l) => `-e ${shellWord(l)}`).join(' ')} "$t/err" > /dev/null; then rc=0; fi`,
    'cat "$t/err" >&2',
    'rm -rf "$t"',
    'exit "$rc"',
  ].join('\n');
  return ['sh', '-c', script];
}

/**
 * Empties the volume; lost+found belongs to the file system (fsck recreates it), not to the data being
 * restored. A helper running as the workload's user under a root folder that belongs to root (the
 * official postgres image keeps PGDATA in such a volume) may not remove the folders at the top: it
 * empties them instead, and the archive fills them again.
 */
function emptyLines(): string[] {
  const failed = `{ echo "could not empty ${DATA_MOUNT}" >&2; exit 3; }`;
  return [
    'if [ -w . ]; then',
    `  find . -mindepth 1 -maxdepth 1 ! -name lost+found -exec rm -rf -- {} + || ${failed}`,
    'else',
    `  find . -mindepth 1 -maxdepth 1 ! -name lost+found ! -type d -exec rm -f -- {} + || ${failed}`,
    `  find . -maxdepth 2 -path ./lost+found -prune -o -path './*/*' -exec rm -rf -- {} + || ${failed}`,
    'fi',
  ];
}

/**
 * Counts what the volume holds under the names the client sends on stdin, NUL-separated (any byte but
 * NUL may be in a name, newlines too): one line with the regular files and their bytes. Only sizes
 * and kinds are read back, never names.
 */
export function countCommand(): string[] {
  const script = [
    `cd ${DATA_MOUNT} || exit 2`,
    'LC_ALL=C; export LC_ALL',
    `echo "${ROOT_PREFIX} $(stat -c '%a' .)"`,
    `xargs -0 -r stat -c '%s %F' | awk '/regular/ { n++; s += $1 } END { printf "${RESTORED_PREFIX} files=%d bytes=%.0f\\n", n, s }'`,
  ].join('\n');
  return ['sh', '-c', script];
}

/**
 * Sets modes again from stdin's NUL-separated pairs (octal mode, name): a non-root BusyBox tar leaves
 * setuid, setgid and folder modes as created, and folders in a setgid root inherit setgid.
 */
export function modesCommand(): string[] {
  return ['sh', '-c', `cd ${DATA_MOUNT} || exit 2\nxargs -0 -r -n 2 chmod`];
}

/** stdin of {@link countCommand}: each name relative to the volume root, so none starts with `-`. */
export function countInput(names: readonly Buffer[]): Buffer {
  return Buffer.concat(names.flatMap((n) => [relativeName(n), Buffer.from([0])]));
}

/** stdin of {@link modesCommand}. */
export function modesInput(entries: readonly { name: Buffer; mode: number }[]): Buffer {
  return Buffer.concat(entries.flatMap((e) => [Buffer.from(`${e.mode.toString(8).padStart(4, '0')}\0`), relativeName(e.name), Buffer.from([0])]));
}

function relativeName(name: Buffer): Buffer {
  const trimmed = name.at(-1) === 0x2f ? name.subarray(0, -1) : name;
  return trimmed.subarray(0, 2).toString() === './' ? trimmed : Buffer.concat([Buffer.from('./'), trimmed]);
}

export interface RestoredCount {
  files: number;
  bytes: number;
}

/** The mode of the volume's root folder after the restore, from the count's stdout. */
export function parseRootMode(stdout: string): number | undefined {
  const m = new RegExp(`^${ROOT_PREFIX} ([0-7]+)$`, 'm').exec(stdout);
  return m ? parseInt(m[1]!, 8) : undefined;
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
