import { BATCH_MARK, LISTING_END, LISTING_HEADER } from './podListingCommand';

export type ListedType = 'file' | 'directory' | 'symlink' | 'other';

/** An instant as the file system stores it: whole seconds since the epoch and nanoseconds within. */
export interface FileTime {
  readonly s: number;
  readonly ns: number;
}

/** One entry of the volume as the helper's stat saw it. */
export interface ListedEntry {
  /** The name's bytes as latin1, without `./`; the volume root is `.`. */
  readonly name: string;
  readonly type: ListedType;
  readonly size: number;
  readonly mtime: FileTime;
  readonly ctime: FileTime;
  /** Permission bits and setuid/setgid/sticky (`& 0o7777`). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly inode: number;
  readonly links: number;
  /** Symlinks only; bytes as latin1. */
  readonly linkname?: string;
}

export interface PodListing {
  /** When the listing started, by the clock that stamps the volume's files. */
  readonly startedAt: FileTime;
  readonly entries: ListedEntry[];
}

const S_IFMT = 0o170000;
const KINDS: Record<number, ListedType> = { 0o100000: 'file', 0o040000: 'directory', 0o120000: 'symlink' };
/** No field is longer than a path (PATH_MAX is 4096); this bounds what one entry may hold in memory. */
export const MAX_FIELD_BYTES = 64 * 1024;
/**
 * A batch is what find passes one command, so its names fit the kernel's argument limit (2 MiB on Linux);
 * its stat lines are about a tenth of a kilobyte each. Held until the stat lines arrive, within this bound.
 */
export const MAX_BATCH_BYTES = 32 * 1024 * 1024;
const STAT_LINE = /^([0-9a-f]+) (\d+) (-?\d+) (\S+ \S+ \S+) (-?\d+) (\S+ \S+ \S+) (\d+) (\d+) (\d+) (\d+)$/;

/**
 * Reads the helper's NUL-separated listing (podListingCommand) as it streams: whole entries come out of
 * each `push`, only the unfinished tail is kept. Throws on malformed or oversized fields, and from `end`
 * when the listing stops before its end marker.
 */
export class PodListingParser {
  private tail: Buffer = Buffer.alloc(0);
  /** Fields of the entry record in progress. */
  private fields: string[] = [];
  /** Names of the batch record in progress; undefined outside one. */
  private batch: string[] | undefined;
  private batchBytes = 0;
  /** The batch's names are all in: the next field is its stat lines. */
  private batchNamesDone = false;
  private startedAt: FileTime | undefined;
  private ended = false;
  private count = 0;

  push(chunk: Buffer): ListedEntry[] {
    const out: ListedEntry[] = [];
    const data = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    let at = 0;
    for (let end = data.indexOf(0, at); end >= 0; end = data.indexOf(0, at)) {
      this.field(data.toString('latin1', at, end), out);
      at = end + 1;
    }
    const limit = this.batchNamesDone ? MAX_BATCH_BYTES : MAX_FIELD_BYTES;
    if (data.length - at > limit) throw new Error(`the helper's listing has a field longer than ${limit} bytes after ${this.count} entries`);
    this.tail = Buffer.from(data.subarray(at));
    return out;
  }

  /** The listing's start time; throws unless the whole listing arrived. */
  end(): FileTime {
    if (!this.ended || this.tail.length || this.fields.length || this.batch) throw new Error(`the helper's listing is cut short after ${this.count} entries`);
    return this.startedAt!;
  }

  private field(text: string, out: ListedEntry[]): void {
    if (this.ended) throw new Error("the helper's listing goes on after its end marker");
    if (this.startedAt === undefined) {
      if (!text.startsWith(`${LISTING_HEADER} `)) throw new Error(`the helper's listing does not start with "${LISTING_HEADER}"`);
      this.startedAt = statLine(text.slice(LISTING_HEADER.length + 1)).mtime;
      return;
    }
    if (this.batch) return this.batchField(this.batch, text, out);
    if (this.fields.length === 0 && text === LISTING_END) {
      this.ended = true;
      return;
    }
    if (this.fields.length === 0 && text === BATCH_MARK) {
      this.batch = [];
      this.batchBytes = 0;
      return;
    }
    this.fields.push(text);
    if (this.fields.length < 3) return;
    const [meta, rawName, target] = this.fields as [string, string, string];
    this.fields = [];
    const stat = statLine(meta);
    if (stat.type === 'symlink') {
      // readlink ends its line with one newline; an empty field means the link vanished meanwhile.
      if (target === '') return;
      out.push({ name: entryName(rawName), ...stat, linkname: target.endsWith('\n') ? target.slice(0, -1) : target });
    } else {
      out.push({ name: entryName(rawName), ...stat });
    }
    this.count++;
  }

  private batchField(names: string[], text: string, out: ListedEntry[]): void {
    if (!this.batchNamesDone) {
      // Names are never empty: an empty field ends them.
      if (text === '') this.batchNamesDone = true;
      else {
        this.batchBytes += text.length;
        if (this.batchBytes > MAX_BATCH_BYTES) throw new Error(`the helper's listing has a batch of names over ${MAX_BATCH_BYTES} bytes`);
        names.push(text);
      }
      return;
    }
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (lines.length !== names.length) throw new Error(`the helper's listing has ${lines.length} stat lines for a batch of ${names.length} names`);
    // Symlinks come in records of their own; one met here changed kind since find saw it: its target is unknown.
    names.forEach((name, i) => out.push({ name: entryName(name), ...statLine(lines[i]!) }));
    this.count += names.length;
    this.batch = undefined;
    this.batchNamesDone = false;
  }
}

function entryName(raw: string): string {
  return raw === '.' ? '.' : raw.replace(/^\.\//, '');
}

/** Parses a whole listing held in memory. */
export function parsePodListing(output: Buffer): PodListing {
  const parser = new PodListingParser();
  const entries = parser.push(output);
  return { startedAt: parser.end(), entries };
}

function statLine(line: string): Omit<ListedEntry, 'name' | 'linkname'> {
  const m = STAT_LINE.exec(line);
  if (!m) throw new Error(`the helper's listing has an unreadable stat line: ${JSON.stringify(line.slice(0, 120))}`);
  const raw = parseInt(m[1]!, 16);
  return {
    type: KINDS[raw & S_IFMT] ?? 'other',
    size: Number(m[2]),
    mtime: { s: Number(m[3]), ns: fractionNs(m[4]!) },
    ctime: { s: Number(m[5]), ns: fractionNs(m[6]!) },
    mode: raw & 0o7777,
    uid: Number(m[7]),
    gid: Number(m[8]),
    inode: Number(m[9]),
    links: Number(m[10]),
  };
}

/** `2026-12-03 16:43:28.757839437 +0000` -> 757839437; a stat without sub-second times gives 0. */
function fractionNs(text: string): number {
  const m = /:\d\d\.(\d{1,9})/.exec(text);
  return m ? Number(m[1]!.padEnd(9, '0')) : 0;
}
