import { shellWord } from '../backup/archiveCommand';
import { MISSING_TOOL_TEXT } from '../backup/helperImageTools';
import { DATA_MOUNT } from '../backup/helperPodSpec';

/** One entry of the restored volume as the helper saw it. */
export interface RestoredEntry {
  /** Bytes as latin1, without `./`; see DigestEntry.name. */
  readonly name: string;
  readonly type: 'file' | 'directory' | 'symlink' | 'other';
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly linkname?: string;
  readonly sha256?: string;
}

/**
 * Run once per batch of names by `find -exec ... {} +`: one `stat` for the batch (its lines carry no
 * names, so a newline in a name cannot shift them), then per entry NUL-separated records:
 * `<raw mode hex> <size> <uid> <gid>`, the name, then `sha256sum`'s line for a regular file or
 * `readlink`'s for a symlink (nothing otherwise). A name holds any byte but NUL, so NUL ends each field.
 */
const EACH_BATCH = [
  't=$1; shift',
  'stat -c "%f %s %u %g" "$@" > "$t/st" || exit 3',
  'exec 4< "$t/st"',
  'for f do',
  '  IFS= read -r m <&4 || exit 3',
  '  printf "%s\\0%s\\0" "$m" "$f"',
  '  if [ -h "$f" ]; then readlink "$f" || exit 3',
  '  elif [ -f "$f" ]; then sha256sum < "$f" || exit 3',
  '  fi',
  '  printf "\\0"',
  'done',
].join('\n');

/**
 * The shell that lists the restored volume: POSIX sh with tools BusyBox and GNU userlands share
 * (find -exec +, stat -c, sha256sum, readlink, printf). The file system's own lost+found is left out,
 * as backups leave it out.
 */
export function drillListingCommand(): string[] {
  const script = [
    `for t in find stat sha256sum readlink mktemp; do command -v "$t" >/dev/null 2>&1 || { echo "${MISSING_TOOL_TEXT} $t" >&2; exit 127; }; done`,
    `cd ${DATA_MOUNT} || exit 2`,
    'LC_ALL=C; export LC_ALL',
    't=$(mktemp -d) || exit 2',
    `each=${shellWord(EACH_BATCH)}`,
    'find . -path ./lost+found -prune -o ! -name . -exec sh -c "$each" sh "$t" {} + || { rm -rf "$t"; exit 3; }',
    'rm -rf "$t"',
  ].join('\n');
  return ['sh', '-c', script];
}

const S_IFMT = 0o170000;
const KINDS: Record<number, RestoredEntry['type']> = { 0o100000: 'file', 0o040000: 'directory', 0o120000: 'symlink' };

/** Reads the helper's NUL-separated records; throws when the output is cut short or malformed. */
export function parseDrillListing(output: Buffer): RestoredEntry[] {
  const entries: RestoredEntry[] = [];
  let at = 0;
  const field = (): string => {
    const end = output.indexOf(0, at);
    if (end < 0) throw new Error(`the helper's listing is cut short after ${entries.length} entries`);
    const text = output.toString('latin1', at, end);
    at = end + 1;
    return text;
  };
  while (at < output.length) {
    const meta = field();
    const m = /^([0-9a-f]+) (\d+) (\d+) (\d+)$/.exec(meta);
    if (!m) throw new Error(`the helper's listing has an unreadable line after ${entries.length} entries: ${JSON.stringify(meta.slice(0, 80))}`);
    const raw = parseInt(m[1]!, 16);
    const type = KINDS[raw & S_IFMT] ?? 'other';
    const name = field().replace(/^\.\//, '');
    const data = field();
    const base = { name, type, size: type === 'file' ? Number(m[2]) : 0, mode: raw & 0o7777, uid: Number(m[3]), gid: Number(m[4]) };
    if (type === 'file') {
      const sum = /^([0-9a-f]{64}) /.exec(data);
      if (!sum) throw new Error(`the helper could not hash ${name}`);
      entries.push({ ...base, sha256: sum[1] });
    } else if (type === 'symlink') {
      // readlink ends its line with one newline; the target may end with newlines of its own.
      entries.push({ ...base, linkname: data.endsWith('\n') ? data.slice(0, -1) : data });
    } else {
      entries.push(base);
    }
  }
  return entries;
}
