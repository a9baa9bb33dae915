import { shellWord, TRAILER_PREFIX, type CompressionMode } from '../backup/archiveCommand';
import { MISSING_TOOL_TEXT } from '../backup/helperImageTools';
import { DATA_MOUNT } from '../backup/helperPodSpec';

/** Exit status when BusyBox cannot take the names that hold a newline as arguments (ARG_MAX). */
export const TOO_MANY_NEWLINE_NAMES_EXIT = 4;

/**
 * Run by `xargs -0` over the names for BusyBox tar, whose -T file is one name per line: names without a
 * newline go to that file, the others to a list of shell-quoted words that become tar's arguments.
 */
const SPLIT_NAMES = [
  't=$1; shift',
  'for f do',
  '  case $f in',
  "    *'\n'*) q=$(printf '%sX' \"$f\" | sed -e \"s/'/'\\\\\\\\''/g\"); printf \" '%s'\" \"${q%X}\" >&3 ;;",
  "    *) printf '%s\\n' \"$f\" ;;",
  '  esac',
  'done >> "$t/list" 3>> "$t/args"',
].join('\n');

/** Exit status when the image's tar is neither GNU nor BusyBox tar, whose archives a piece can be cut from. */
export const UNJOINABLE_TAR_EXIT = 5;
/** The end of a tar archive: two zero blocks (GNU tar with `-b 1` and BusyBox tar write no more). */
export const END_OF_ARCHIVE_BYTES = 1024;

/**
 * The shell that sends exactly the named entries (no folder's content unless named) as a tar on stdout,
 * gzip'd in the pod for `pod-gzip`, with archiveCommand's trailer on stderr (sha256 of the bytes sent and
 * tar's exit status). The names arrive on stdin, NUL-separated (selectionInput). GNU tar reads them as
 * they are (`--null --verbatim-files-from --no-unquote`); BusyBox tar's -T file holds one name per line,
 * so names with a newline travel as its arguments instead: every name is carried exactly, none widened.
 *
 * `joinable`: the tar stops before its end-of-archive blocks (GNU tar writes records of one block, so the
 * end is exactly two), so that pieces sent by several streams join, in order and followed by one end, into
 * the archive a single tar would have written. A gzip'd part is not hashed in the pod (`sha256=-` in the
 * trailer): gzip's CRC-32 and length of what it compressed, checked as this process inflates the part to list
 * it, cover the part, and a tee and sha256sum would cost the helper a third as much CPU as gzip itself.
 */
export function selectionCommand(compression: CompressionMode, level = 6, options: { joinable?: boolean } = {}): string[] {
  if (!Number.isInteger(level) || level < 1 || level > 9) throw new RangeError(`gzip level must be 1 to 9, got ${level}`);
  const compress = (options.joinable ? ` | head -c -${END_OF_ARCHIVE_BYTES}` : '') + (compression === 'pod-gzip' ? ` | gzip -${level}` : '');
  const hashed = !(options.joinable && compression === 'pod-gzip');
  const script = [
    `for t in tar cat grep xargs sed wc mktemp${hashed ? ' mkfifo sha256sum tee cut' : ''}${options.joinable ? ' head' : ''}${compression === 'pod-gzip' ? ' gzip' : ''}; do`,
    `  command -v "$t" >/dev/null 2>&1 || { echo "${MISSING_TOOL_TEXT} $t" >&2; exit 127; }`,
    'done',
    `cd ${DATA_MOUNT} || exit 2`,
    'LC_ALL=C; export LC_ALL',
    't=$(mktemp -d) || exit 2',
    'cat > "$t/names" || exit 2',
    'if tar --version 2>/dev/null | grep -q "GNU tar"; then',
    `  set -- ${options.joinable ? '-b 1 ' : ''}--null --verbatim-files-from --no-unquote -T "$t/names"`,
    ...(options.joinable
      ? [`elif ! tar --help 2>&1 | grep -q BusyBox; then`, `  echo "nkvm: the helper image's tar is neither GNU nor BusyBox tar, so its archive cannot be sent in parts; set nkvm.backup.streams to 1" >&2; exit ${UNJOINABLE_TAR_EXIT}`]
      : []),
    'else',
    '  : > "$t/list"; : > "$t/args"',
    `  split=${shellWord(SPLIT_NAMES)}`,
    '  xargs -0 sh -c "$split" sh "$t" < "$t/names" || exit 2',
    // Linux caps a command's arguments at 2 MiB in all; stay well under it with a clear message.
    `  if [ "$(wc -c < "$t/args")" -gt 1048576 ]; then echo "nkvm: too many names with a newline for BusyBox tar; use a GNU helper image" >&2; exit ${TOO_MANY_NEWLINE_NAMES_EXIT}; fi`,
    '  eval "set -- -T \\"\\$t/list\\" $(cat "$t/args")"',
    'fi',
    ...(hashed ? ['mkfifo "$t/sum" || exit 2', 'sha256sum < "$t/sum" > "$t/sum.out" &'] : []),
    compress
      ? `{ { tar cf - --no-recursion "$@"; echo $? > "$t/rc"; }${compress}; echo $? > "$t/zrc"; }${hashed ? ' | tee "$t/sum"' : ''}`
      : '{ tar cf - --no-recursion "$@"; echo $? > "$t/rc"; } | tee "$t/sum"',
    'wait',
    'rc=$(cat "$t/rc" 2>/dev/null || echo 2)',
    ...(compress ? [`if [ "$(cat "$t/zrc" 2>/dev/null || echo 2)" != 0 ]; then echo "nkvm: ${compression === 'pod-gzip' ? 'gzip' : 'head'} failed in the helper pod" >&2; rc=2; fi`] : []),
    hashed ? `echo "${TRAILER_PREFIX} sha256=$(cut -d' ' -f1 "$t/sum.out") tar-exit=$rc" >&2` : `echo "${TRAILER_PREFIX} sha256=- tar-exit=$rc" >&2`,
    'rm -rf "$t"',
    'exit $rc',
  ].join('\n');
  return ['sh', '-c', script, 'nkvm-incremental'];
}

/**
 * The names for selectionCommand's stdin: `./name`, each ended by NUL (names are latin1 byte strings).
 * BusyBox tar refuses to write an empty archive: with nothing to send, follow the manifest with
 * endOfArchiveMember() instead of running the helper.
 */
export function selectionInput(names: readonly string[]): Buffer {
  if (names.length === 0) throw new RangeError('nothing to send: follow the manifest with endOfArchiveMember() instead');
  return Buffer.from(names.map((n) => (n === '.' ? '.' : `./${n}`) + '\0').join(''), 'latin1');
}
