import { roundUp, type RawTarEntry } from './rawTarEntries';

const BLOCK = 512;
/** Spelling bits: the stored name is `./` + the member name, and/or ends with `/`. */
const DOT = 1;
const SLASH = 2;
/** Types whose header size the merge ignores (no data follows) but a tar reader other than a folder's would not. */
const SIZED_BY_READER = new Set(['1', '2', '3', '4', '6']);
const READER_TYPES: Record<string, string> = {
  '0': 'file', '1': 'link', '2': 'symlink', '3': 'character-device',
  '4': 'block-device', '5': 'directory', '6': 'fifo', '7': 'contiguous-file',
};

/**
 * The header facts of every member of one archive, in archive order (the manifest left out), as the tar reader
 * that counts a restore (tar-stream) would read them from the merged chain: enough to count the merge without
 * reading the chain again. Kept in columns of numbers, with strings only where a name cannot be rebuilt from the
 * member's normalised name or a link has a target, so that a chain of a million entries stays small.
 */
export class MemberHeaders {
  private count = 0;
  private typeflags = new Uint8Array(64);
  private spellings = new Uint8Array(64);
  /** mode, uid, gid, header blocks' length: four numbers a member. */
  private numbers = new Uint32Array(64 * 4);
  private sizes = new Float64Array(64);
  private readonly spelled = new Map<number, string>();
  private readonly links = new Map<number, string>();
  /** Header length of a hard link rewritten as a file (GNU long link blocks dropped), where it differs. */
  private readonly asFileLengths = new Map<number, number>();
  /** Why the facts cannot stand for the merged tar (a header the counting reader reads otherwise), if they cannot. */
  unreadable: string | undefined;

  get length(): number {
    return this.count;
  }

  /** Records one member; `name` is its normalised name (as the chain's members list holds it). */
  add(entry: RawTarEntry, name: string): void {
    this.unreadable ??= readerProblem(entry);
    if (this.count === this.typeflags.length) this.grow();
    const at = this.count++;
    this.typeflags[at] = entry.typeflag.charCodeAt(0);
    const dot = entry.name.startsWith('./') ? DOT : 0;
    const slash = entry.name.endsWith('/') ? SLASH : 0;
    if (spell(name, dot | slash) === entry.name) this.spellings[at] = dot | slash;
    else this.spelled.set(at, entry.name);
    if (entry.linkname !== '') this.links.set(at, entry.linkname);
    let headerLength = BLOCK;
    let longLinks = 0;
    for (const ext of entry.extensions) {
      headerLength += BLOCK + roundUp(ext.data.length);
      if (ext.typeflag === 'K') longLinks += BLOCK + roundUp(ext.data.length);
    }
    if (entry.typeflag === '1' && longLinks) this.asFileLengths.set(at, headerLength - longLinks);
    const numbers = [readerOctal(entry.header, 100, 8), readerOctal(entry.header, 108, 8), readerOctal(entry.header, 116, 8)];
    if (!numbers.every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff)) this.unreadable ??= 'a mode or owner out of range';
    this.numbers.set([...numbers, headerLength], at * 4);
    this.sizes[at] = entry.size;
  }

  /** The typeflag as the merge reads it (`0` also for NUL). */
  typeflag(at: number): string {
    return String.fromCharCode(this.typeflags[at]!);
  }

  /** The type the counting reader gives it: `file`, `link`, `directory`, ... or null. */
  readerType(at: number): string | null {
    return READER_TYPES[this.typeflag(at)] ?? null;
  }

  /** The name's bytes as stored (latin1), `./` and a folder's `/` included. */
  storedName(at: number, name: string): string {
    return this.spelled.get(at) ?? spell(name, this.spellings[at]!);
  }

  /** The link target's bytes as stored (latin1), '' when none. */
  linkname(at: number): string {
    return this.links.get(at) ?? '';
  }

  mode(at: number): number {
    return this.numbers[at * 4]!;
  }

  uid(at: number): number {
    return this.numbers[at * 4 + 1]!;
  }

  gid(at: number): number {
    return this.numbers[at * 4 + 2]!;
  }

  /** Bytes of data after the header (0 for types without data). */
  size(at: number): number {
    return this.sizes[at]!;
  }

  /** Bytes of its header blocks, extensions included. */
  headerLength(at: number): number {
    return this.numbers[at * 4 + 3]!;
  }

  /** Bytes of its header blocks once a hard link is rewritten as a regular file. */
  asFileHeaderLength(at: number): number {
    return this.asFileLengths.get(at) ?? this.headerLength(at);
  }

  private grow(): void {
    const size = this.typeflags.length * 2;
    const typeflags = new Uint8Array(size);
    typeflags.set(this.typeflags);
    const spellings = new Uint8Array(size);
    spellings.set(this.spellings);
    const numbers = new Uint32Array(size * 4);
    numbers.set(this.numbers);
    const sizes = new Float64Array(size);
    sizes.set(this.sizes);
    this.typeflags = typeflags;
    this.spellings = spellings;
    this.numbers = numbers;
    this.sizes = sizes;
  }
}

function spell(name: string, bits: number): string {
  return `${bits & DOT ? './' : ''}${name}${bits & SLASH ? '/' : ''}`;
}

/**
 * Headers that tar-stream reads otherwise than the merge copies them: pax records (it decodes them as UTF-8 and
 * adds global ones), formats it refuses, a GNU long name it ignores when empty, old-style folders (type 0 and a
 * trailing `/`), sizes on links. Backups made by GNU or BusyBox tar have none of them.
 */
function readerProblem(entry: RawTarEntry): string | undefined {
  for (const ext of entry.extensions) {
    if (ext.typeflag === 'x' || ext.typeflag === 'g') return 'pax headers';
    if (ext.data.length === 0 || ext.data[0] === 0) return 'an empty GNU long name';
    if (!knownFormat(ext.header)) return 'a header of an unknown format';
  }
  const { header, typeflag } = entry;
  if (!knownFormat(header)) return 'a header of an unknown format';
  if (header[156] === 'N'.charCodeAt(0)) return 'an old GNU long name';
  if (typeflag === '0' && ustarName(header).endsWith('/')) return 'an old-style folder';
  if (SIZED_BY_READER.has(typeflag) && readerOctal(header, 124, 12) !== 0) return 'a link or device with a size';
  if (typeflag !== '5' && !SIZED_BY_READER.has(typeflag) && readerOctal(header, 124, 12) !== entry.size) return 'a size read two ways';
  return undefined;
}

function knownFormat(header: Buffer): boolean {
  const magic = header.toString('latin1', 257, 265);
  return magic.startsWith('ustar\0') || magic === 'ustar  \0';
}

function ustarName(header: Buffer): string {
  const cString = (from: number, length: number): string => {
    const end = header.indexOf(0, from);
    return header.toString('latin1', from, end < 0 || end > from + length ? from + length : end);
  };
  const name = cString(0, 100);
  return header.toString('latin1', 257, 263) === 'ustar\0' && header[345] ? `${cString(345, 155)}/${name}` : name;
}

/** A numeric field as tar-stream decodes it (base-256 when the high bit is set, else octal up to the first space). */
function readerOctal(header: Buffer, offset: number, length: number): number {
  const field = header.subarray(offset, offset + length);
  if (field[0]! & 0x80) {
    if (field[0] !== 0x80 && field[0] !== 0xff) return 0;
    let sum = 0;
    for (let i = 1; i < field.length; i++) sum = sum * 256 + (field[0] === 0x80 ? field[i]! : 0xff - field[i]!);
    return field[0] === 0x80 ? sum : -sum;
  }
  let from = 0;
  while (from < field.length && field[from] === 0x20) from++;
  let end = field.indexOf(0x20, from);
  if (end < 0) end = field.length;
  while (from < end && field[from] === 0) from++;
  return end === from ? 0 : parseInt(field.toString('latin1', from, end), 8);
}
