const BLOCK = 512;
/** Types whose size field does not announce data (links, devices, folders, fifos). */
const NO_DATA = new Set(['1', '2', '3', '4', '5', '6']);
/** Headers that describe the entry after them: GNU long name and long link, pax per-file and global. */
const EXTENSIONS = new Set(['L', 'K', 'x', 'g']);

/** A header block of an extension (GNU `L`/`K`, pax `x`/`g`) and its data, as read. */
export interface RawExtension {
  readonly typeflag: string;
  readonly header: Buffer;
  readonly data: Buffer;
}

/** One tar entry with its header blocks exactly as stored, so it can be copied without re-encoding. */
export interface RawTarEntry {
  readonly extensions: readonly RawExtension[];
  readonly header: Buffer;
  /** The name's bytes, one character per byte (latin1): from pax `path`, a GNU long name, or prefix/name. */
  readonly name: string;
  /** The link target's bytes (latin1), '' when none. */
  readonly linkname: string;
  /** `0` for a regular file (also when stored as NUL), `1` hard link, `2` symlink, `5` folder, ... */
  readonly typeflag: string;
  /** Bytes of data that follow the header (not counting padding). */
  readonly size: number;
}

export class TarFormatError extends Error {}

/**
 * Reads a plain tar stream in blocks, pulling from the source only as far as asked: backpressure comes
 * from the consumer, and at most one source chunk is held beyond what is being read.
 */
export class TarBlockReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n && !this.ended) {
      const next = await this.source.next();
      if (next.done) this.ended = true;
      else if (next.value.length) {
        this.chunks.push(next.value);
        this.buffered += next.value.length;
      }
    }
    return this.buffered >= n;
  }

  /** Exactly `n` bytes, or undefined when the stream ends first. */
  async take(n: number): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) return undefined;
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const taken = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return taken;
  }

  /** `n` bytes as they arrive, in pieces. */
  async *pieces(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (!(await this.fill(1))) throw new TarFormatError('the tar ends inside an entry');
      const first = this.chunks[0]!;
      const piece = first.length <= left ? first : first.subarray(0, left);
      if (piece === first) this.chunks.shift();
      else this.chunks[0] = first.subarray(left);
      this.buffered -= piece.length;
      left -= piece.length;
      yield piece;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const piece of this.pieces(n)) void piece;
  }

  /** Reads whatever follows (padding after the end-of-archive blocks), e.g. so the file's checksum covers it. */
  async drain(): Promise<void> {
    this.chunks = [];
    this.buffered = 0;
    while (!this.ended) if ((await this.source.next()).done) this.ended = true;
  }
}

/**
 * The entries of a tar, each with a generator of its data. Data not read before asking for the next
 * entry is skipped. Ends at the end-of-archive block; a tar cut before it is refused.
 */
export async function* rawTarEntries(reader: TarBlockReader): AsyncGenerator<{ entry: RawTarEntry; data: AsyncGenerator<Buffer> }> {
  for (;;) {
    const extensions: RawExtension[] = [];
    let header: Buffer | undefined;
    for (;;) {
      header = await reader.take(BLOCK);
      if (!header) throw new TarFormatError('the tar ends without its end-of-archive blocks');
      if (header.every((b) => b === 0)) return;
      checkChecksum(header);
      const typeflag = typeOf(header);
      if (!EXTENSIONS.has(typeflag)) break;
      const size = numeric(header, 124, 12);
      const padded = await reader.take(roundUp(size));
      if (!padded) throw new TarFormatError('the tar ends inside an extension header');
      extensions.push({ typeflag, header, data: padded.subarray(0, size) });
    }
    const entry = describe(extensions, header);
    let read = 0;
    const data = (async function* () {
      for await (const piece of reader.pieces(entry.size)) {
        read += piece.length;
        yield piece;
      }
    })();
    yield { entry, data };
    await reader.skip(entry.size - read + (roundUp(entry.size) - entry.size));
  }
}

function describe(extensions: readonly RawExtension[], header: Buffer): RawTarEntry {
  const typeflag = typeOf(header);
  let name = ustarName(header);
  let linkname = field(header, 157, 100);
  let size = NO_DATA.has(typeflag) ? 0 : numeric(header, 124, 12);
  for (const ext of extensions) {
    if (ext.typeflag === 'L') name = cString(ext.data);
    else if (ext.typeflag === 'K') linkname = cString(ext.data);
    else if (ext.typeflag === 'x') {
      const records = paxRecords(ext.data);
      // Raw bytes as latin1 keep the name exact whether pax wrote UTF-8 or (hdrcharset=BINARY) the bytes as they are.
      if (records.has('path')) name = records.get('path')!;
      if (records.has('linkpath')) linkname = records.get('linkpath')!;
      if (records.has('size') && !NO_DATA.has(typeflag)) size = Number(records.get('size'));
    }
  }
  return { extensions, header, name, linkname, typeflag, size };
}

/** pax records `LEN key=value\n`, keys and values as latin1 byte strings. */
export function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length && data[at] !== 0) {
    const space = data.indexOf(0x20, at);
    const length = Number(data.toString('latin1', at, space));
    if (space < 0 || !Number.isInteger(length) || length <= 0 || at + length > data.length) {
      throw new TarFormatError('a pax header record is malformed');
    }
    const record = data.toString('latin1', space + 1, at + length - 1);
    const equals = record.indexOf('=');
    records.set(record.slice(0, equals), record.slice(equals + 1));
    at += length;
  }
  return records;
}

function typeOf(header: Buffer): string {
  return header[156] === 0 ? '0' : String.fromCharCode(header[156]!);
}

function ustarName(header: Buffer): string {
  const name = field(header, 0, 100);
  // POSIX ustar splits long names into prefix and name; GNU's "ustar  " magic uses those bytes otherwise.
  const posix = header.toString('latin1', 257, 263) === 'ustar\0';
  const prefix = posix ? field(header, 345, 155) : '';
  return prefix ? `${prefix}/${name}` : name;
}

function field(header: Buffer, offset: number, length: number): string {
  return cString(header.subarray(offset, offset + length));
}

function cString(bytes: Buffer): string {
  const end = bytes.indexOf(0);
  return bytes.toString('latin1', 0, end < 0 ? bytes.length : end);
}

/** An octal field, or base-256 (first byte's high bit set) as GNU and BusyBox write sizes of 8 GiB and more. */
export function numeric(header: Buffer, offset: number, length: number): number {
  if (header[offset]! & 0x80) {
    let value = header[offset]! & 0x7f;
    for (let i = offset + 1; i < offset + length; i++) value = value * 256 + header[i]!;
    return value;
  }
  const text = header.toString('latin1', offset, offset + length).replace(/[\0 ]+$/, '').trim();
  const value = text === '' ? 0 : parseInt(text, 8);
  if (!Number.isFinite(value)) throw new TarFormatError('a tar header has a number that is not octal');
  return value;
}

function checkChecksum(header: Buffer): void {
  const stored = numeric(header, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  if (sum !== stored) throw new TarFormatError('a tar header fails its checksum');
}

export function roundUp(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}
