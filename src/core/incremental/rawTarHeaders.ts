import { numeric, paxRecords, roundUp, type RawTarEntry } from './rawTarEntries';

const BLOCK = 512;

/** An entry's header blocks (extensions first) as they are to be written. */
export function headerBlocks(entry: RawTarEntry): Buffer {
  const parts: Buffer[] = [];
  for (const ext of entry.extensions) parts.push(ext.header, padded(ext.data));
  parts.push(entry.header);
  return Buffer.concat(parts);
}

/**
 * The header blocks of a hard link rewritten as a regular file of `size` bytes, for a link whose target is
 * not in the stream: same name, mode, owner and times (a hard link shares its target's inode), no link target.
 */
export function hardLinkAsFile(entry: RawTarEntry, size: number): Buffer {
  const parts: Buffer[] = [];
  for (const ext of entry.extensions) {
    if (ext.typeflag === 'K') continue;
    if (ext.typeflag !== 'x') {
      parts.push(ext.header, padded(ext.data));
      continue;
    }
    const records = [...paxRecords(ext.data)].filter(([key]) => key !== 'linkpath' && key !== 'size');
    const data = Buffer.concat(records.map(([key, value]) => paxRecord(key, value)));
    const header = Buffer.from(ext.header);
    writeSize(header, data.length);
    seal(header);
    parts.push(header, padded(data));
  }
  const header = Buffer.from(entry.header);
  header[156] = '0'.charCodeAt(0);
  header.fill(0, 157, 257);
  writeSize(header, size);
  seal(header);
  parts.push(header);
  return Buffer.concat(parts);
}

function paxRecord(key: string, value: string): Buffer {
  const body = Buffer.from(` ${key}=${value}\n`, 'latin1');
  // The length counts its own digits.
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return Buffer.concat([Buffer.from(String(length), 'latin1'), body]);
}

function writeSize(header: Buffer, size: number): void {
  if (size < 8 ** 11) {
    header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    return;
  }
  // Base-256, as GNU and BusyBox tar write sizes of 8 GiB and more.
  header.fill(0, 124, 136);
  let rest = size;
  for (let i = 135; i > 124; i--) {
    header[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  header[124] = 0x80;
  if (numeric(header, 124, 12) !== size) throw new RangeError(`a tar entry of ${size} bytes is too large`);
}

function seal(header: Buffer): void {
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
}

function padded(data: Buffer): Buffer {
  return data.length % BLOCK ? Buffer.concat([data, Buffer.alloc(roundUp(data.length) - data.length)]) : data;
}
