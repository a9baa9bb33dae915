import { shellWord } from '../backup/archiveCommand';
import { MISSING_TOOL_TEXT } from '../backup/helperImageTools';
import { DATA_MOUNT } from '../backup/helperPodSpec';

/** First field of the listing: the format, then the stat line of a file touched as the listing started. */
export const LISTING_HEADER = 'nkvm-listing 1';
/** Last field: find walked the whole set; without it the listing is cut short. */
export const LISTING_END = 'nkvm-listing-end';

/**
 * One line per entry, no name in it (a newline in a name cannot shift the lines): raw mode in hex, size,
 * mtime seconds, mtime as text (its fraction gives the nanoseconds), the same for ctime, owner, inode, links.
 * Alpine's BusyBox and GNU stat both print `%y` as `2026-12-03 16:43:28.757839437 +0000`.
 */
export const STAT_FORMAT = '%f %s %Y %y %Z %z %u %g %i %h';

/** First field of a batch record: the batch's names, an empty field, then its stat lines in one field. */
export const BATCH_MARK = 'B';

/**
 * One entry per record, three NUL-ended fields: the stat line, the name, and readlink's line for a symlink
 * (empty otherwise). An entry that vanished since find met it is left out; a symlink that vanished between
 * stat and readlink has an empty target, which no symlink can have, so the reader drops it too.
 */
const EACH_ENTRY = [
  'for f do',
  `  m=$(stat -c '${STAT_FORMAT}' "$f" 2>/dev/null) || continue`,
  '  if [ -h "$f" ]; then printf "%s\\0%s\\0" "$m" "$f"; readlink "$f" 2>/dev/null; printf "\\0"',
  '  else printf "%s\\0%s\\0\\0" "$m" "$f"; fi',
  'done',
].join('\n');

/**
 * Run by `find -exec ... {} +` on each batch of symlinks: one record each (EACH_ENTRY), readlink per link.
 */
const LINKS_BATCH = ['t=$1; shift', EACH_ENTRY].join('\n');

/**
 * Run by `find -exec ... {} +` on each batch of other entries: all names with one printf, then one stat for
 * the batch, whose lines carry no names (a newline in a name cannot shift them), so no shell loop runs per
 * entry (a shell reads a file byte by byte). When stat fails (an entry vanished meanwhile), the batch goes
 * entry by entry instead.
 */
const FILES_BATCH = [
  't=$1; shift',
  `if stat -c '${STAT_FORMAT}' "$@" > "$t/st" 2>/dev/null; then`,
  `  printf '${BATCH_MARK}\\0'; printf '%s\\0' "$@"; printf '\\0'; cat "$t/st"; printf '\\0'`,
  'else',
  EACH_ENTRY,
  'fi',
].join('\n');

export interface ListingSelection {
  /** Paths or shell globs relative to the volume root, as archiveCommand takes them; empty: the whole volume. */
  readonly include: readonly string[];
  /** Patterns relative to the volume root, matched as find -path matches them (`*` spans folders, as tar's do). */
  readonly exclude: readonly string[];
}

/**
 * The shell that lists the volume for change detection: POSIX sh with find -exec +, stat -c, readlink,
 * mktemp, touch, cat, grep and printf, which Alpine's BusyBox and GNU userlands share. The set is the one a backup
 * reads: the includes (or the whole volume less its root lost+found), less the excludes. User paths are
 * positional parameters, never script text. Fails (exit 3) when find could not read every folder, since
 * a folder it skipped would look deleted.
 */
export function podListingCommand(selection: ListingSelection = { include: [], exclude: [] }): string[] {
  const script = [
    `for t in find stat readlink mktemp touch cat grep; do command -v "$t" >/dev/null 2>&1 || { echo "${MISSING_TOOL_TEXT} $t" >&2; exit 127; }; done`,
    `cd ${DATA_MOUNT} || exit 2`,
    'LC_ALL=C; export LC_ALL',
    "IFS=''",
    'fresh=1; roots=0; whole=0; expr=0',
    'for a in "$@"; do',
    '  if [ $fresh = 1 ]; then set --; fresh=0; fi',
    '  case $a in',
    '    i:*)',
    '      p=${a#i:}; hit=0',
    '      for m in ./$p; do',
    '        if [ -e "$m" ] || [ -L "$m" ]; then set -- "$@" "$m"; hit=1; roots=$((roots + 1)); fi',
    '      done',
    '      if [ $hit = 0 ]; then echo "nkvm: nothing in the volume matches the include path $p" >&2; exit 2; fi ;;',
    '    x:*)',
    '      if [ $roots = 0 ]; then set -- "$@" .; roots=1; whole=1; fi',
    '      if [ $expr = 0 ]; then set -- "$@" "("; expr=1; else set -- "$@" -o; fi',
    '      set -- "$@" -path "./${a#x:}" ;;',
    '  esac',
    'done',
    'if [ $roots = 0 ]; then set -- "$@" .; whole=1; fi',
    // The file system's own lost+found is left out, as backups leave it out.
    'if [ $whole = 1 ]; then',
    '  if [ $expr = 0 ]; then set -- "$@" "("; expr=1; else set -- "$@" -o; fi',
    '  set -- "$@" -path ./lost+found',
    'fi',
    'if [ $expr = 1 ]; then set -- "$@" ")" -prune -o; fi',
    't=$(mktemp -d) || exit 2',
    // The same clock stamps the volume's files: a file written at or after this instant is "racy".
    'touch "$t/start" || exit 2',
    `printf '%s %s\\0' '${LISTING_HEADER}' "$(stat -c '${STAT_FORMAT}' "$t/start")"`,
    `links=${shellWord(LINKS_BATCH)}`,
    `files=${shellWord(FILES_BATCH)}`,
    'find "$@" -type l -exec sh -c "$links" sh "$t" {} + -o -exec sh -c "$files" sh "$t" {} + 2> "$t/err"',
    // An entry that vanished while find walked is simply gone; any other complaint (a folder it could
    // not read) fails the listing. Containers set no locale, so find speaks English.
    'if grep -v "No such file or directory" "$t/err" | grep -q .; then cat "$t/err" >&2; rm -rf "$t"; exit 3; fi',
    'rm -rf "$t"',
    `printf '%s\\0' '${LISTING_END}'`,
  ].join('\n');
  return ['sh', '-c', script, 'nkvm-listing', ...selection.include.map((p) => `i:${p}`), ...selection.exclude.map((p) => `x:${p}`)];
}
