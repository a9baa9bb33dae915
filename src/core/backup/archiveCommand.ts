import { MISSING_TOOL_TEXT } from './helperImageTools';
import { DATA_MOUNT } from './helperPodSpec';

export const TRAILER_PREFIX = 'nkvm-trailer';
/** stderr line naming a special file left out: `nkvm-skipped <kind> <hex of the name's bytes>`. */
export const SKIPPED_PREFIX = 'nkvm-skipped';

/**
 * Run by `find -exec ... {} +` on fifos, sockets and device nodes: prints each as a tar exclude,
 * shell-quoted with its glob characters escaped (any byte but NUL may be in a name), and names it on fd 3
 * in hex, which no name can break.
 */
const SPECIAL_FILE_EXCLUDES = [
  'for f do',
  '  kind=special; [ -p "$f" ] && kind=fifo; [ -S "$f" ] && kind=socket; [ -c "$f" ] && kind=char-device; [ -b "$f" ] && kind=block-device',
  `  q=$(printf '%sX' "$f" | sed -e 's/[][\\\\*?]/\\\\&/g' -e "s/'/'\\\\\\\\''/g")`,
  '  printf " \'--exclude=%s\'" "${q%X}"',
  `  { printf '${SKIPPED_PREFIX} %s ' "$kind"; printf '%s' "$f" | od -An -v -tx1 | tr -d ' \\n'; echo; } >&3`,
  'done',
].join('\n');

/** Where the archive is compressed: by gzip in the helper pod, by this process on several cores, or not at all. */
export type CompressionMode = 'pod-gzip' | 'local-gzip' | 'none';

export const COMPRESSION_MODES: readonly CompressionMode[] = ['pod-gzip', 'local-gzip', 'none'];

export interface ArchiveOptions {
  compression: CompressionMode;
  /** gzip level 1 (fastest) to 9 (smallest); used by `pod-gzip` here and by `local-gzip` in this process. */
  level: number;
  /** Paths or shell globs relative to the volume root; empty: the whole volume. */
  include: readonly string[];
  /** Paths or globs relative to the volume root, as the image's tar matches `--exclude`. */
  exclude: readonly string[];
}

export const WHOLE_VOLUME_GZIP: ArchiveOptions = { compression: 'pod-gzip', level: 6, include: [], exclude: [] };

/** Exit status the script uses when an include path matches nothing, like tar's own fatal status. */
const NOTHING_MATCHED_EXIT = 2;

/**
 * The shell run in the helper: a tar of the volume on stdout (gzip'd in the pod for `pod-gzip`), and on
 * stderr a last line with the sha256 of exactly the bytes sent (which also pins their length), plus the
 * exit status. POSIX sh and BusyBox only (the default image is alpine): no pipefail, no GNU-only flags.
 *
 * User paths never enter the script text: they are its positional parameters (`x:` exclude, `i:`
 * include), so spaces, quotes and `$` in names reach tar unchanged. Includes are expanded as globs by
 * the shell with IFS empty (no word splitting); tar creates archives from member names, not patterns.
 */
export function archiveCommand(options: ArchiveOptions = WHOLE_VOLUME_GZIP): string[] {
  if (!Number.isInteger(options.level) || options.level < 1 || options.level > 9) throw new RangeError(`gzip level must be 1 to 9, got ${options.level}`);
  const compress = options.compression === 'pod-gzip' ? ` | gzip -${options.level}` : '';
  const script = [
    // A missing tool would fail late or hang (tee waits forever on a fifo nobody reads): check them first.
    `for t in tar find mktemp mkfifo sha256sum tee cut${compress ? ' gzip' : ''}; do command -v "$t" >/dev/null 2>&1 || { echo "${MISSING_TOOL_TEXT} $t" >&2; exit 127; }; done`,
    `cd ${DATA_MOUNT} || exit 2`,
    "IFS=''",
    'fresh=1',
    'members=0',
    'for a in "$@"; do',
    '  if [ $fresh = 1 ]; then set --; fresh=0; fi',
    '  case $a in',
    '    x:*) set -- "$@" "--exclude=./${a#x:}" ;;',
    '    i:*)',
    '      p=${a#i:}',
    '      hit=0',
    '      for m in ./$p; do',
    '        if [ -e "$m" ] || [ -L "$m" ]; then set -- "$@" "$m"; hit=1; members=$((members + 1)); fi',
    '      done',
    `      if [ $hit = 0 ]; then echo "nkvm: nothing in the volume matches the include path $p" >&2; exit ${NOTHING_MATCHED_EXIT}; fi ;;`,
    '  esac',
    'done',
    // The whole volume, less lost+found at its root: it belongs to the file system (root, mode 0700 on every
    // fresh ext4 volume), so a non-root helper cannot read it, and fsck makes it again.
    'if [ $members = 0 ]; then set -- "$@" --exclude=./lost+found .; fi',
    // Fifos, sockets and devices are left out, named on stderr: a restore cannot mknod a device without
    // CAP_MKNOD, and a socket is only a name. Decided here so that every restore of the archive works.
    // find's own complaints (folders it may not read) are dropped: tar names those itself.
    `skip=${shellWord(SPECIAL_FILE_EXCLUDES)}`,
    "excludes=$(find . \\( -type p -o -type s -o -type b -o -type c \\) -exec sh -c \"$skip\" sh {} + 3>&2 2>/dev/null)",
    'eval "set -- $excludes \\"\\$@\\""',
    't=$(mktemp -d) || exit 2',
    'mkfifo "$t/sum" || exit 2',
    'sha256sum < "$t/sum" > "$t/sum.out" &',
    // No `wc -c`: BusyBox reads a pipe byte by byte, which cost gzip a tenth of its CPU.
    // gzip's own status is kept too: a gzip that dies early would send a short but self-consistent stream.
    compress
      ? `{ { tar cf - "$@"; echo $? > "$t/rc"; }${compress}; echo $? > "$t/zrc"; } | tee "$t/sum"`
      : '{ tar cf - "$@"; echo $? > "$t/rc"; } | tee "$t/sum"',
    'wait',
    'rc=$(cat "$t/rc" 2>/dev/null || echo 2)',
    ...(compress ? ['if [ "$(cat "$t/zrc" 2>/dev/null || echo 2)" != 0 ]; then echo "nkvm: gzip failed in the helper pod" >&2; rc=2; fi'] : []),
    `echo "${TRAILER_PREFIX} sha256=$(cut -d' ' -f1 "$t/sum.out") tar-exit=$rc" >&2`,
    'rm -rf "$t"',
    'exit $rc',
  ].join('\n');
  return ['sh', '-c', script, 'nkvm-archive', ...options.exclude.map((p) => `x:${p}`), ...options.include.map((p) => `i:${p}`)];
}

/** `text` as one single-quoted word of a POSIX shell script, whatever it holds. */
export function shellWord(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export interface ArchiveTrailer {
  /** Absent (`sha256=-`) where gzip's own CRC-32 and length, checked as the part is inflated here, stand for it. */
  sha256?: string;
  tarExit: number;
}
