import { frontCode, frontDecode } from './nameFrontCoding';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ArchiveDigests, DigestEntry, DigestEntryType } from './archiveDigests';

const FORMAT = 1;
const TYPES: readonly DigestEntryType[] = ['file', 'directory', 'symlink', 'link', 'other'];
const DIGEST_BYTES = 32;

/** Column arrays, as in archiveIndexCodec: the key names would otherwise be most of the bytes. */
interface EncodedColumns {
  readonly v: number;
  /** Front coding of the names (latin1 byte strings): characters shared with the previous name, then the rest. */
  readonly shared: number[];
  readonly rest: string[];
  readonly types: number[];
  readonly sizes: number[];
  readonly modes: number[];
  readonly uids: number[];
  readonly gids: number[];
  /** Seconds since the previous entry's mtime. */
  readonly mtimes: number[];
  readonly links: Record<string, string>;
}

/**
 * A compact form for the history database, which is rewritten whole on each change: gzip'd columns,
 * then the regular files' SHA-256 digests as raw bytes (they do not compress), in entry order.
 * Layout: format byte, 4-byte big-endian length of the gzip'd columns, the columns, the digests.
 */
export function encodeArchiveDigests(listing: ArchiveDigests): Uint8Array {
  const columns: EncodedColumns = { v: FORMAT, ...frontCode(listing.entries.map((e) => e.name)), types: [], sizes: [], modes: [], uids: [], gids: [], mtimes: [], links: {} };
  const digests: Buffer[] = [];
  let previousMtime = 0;
  listing.entries.forEach((entry, i) => {
    columns.types.push(TYPES.indexOf(entry.type));
    columns.sizes.push(entry.size);
    columns.modes.push(entry.mode);
    columns.uids.push(entry.uid);
    columns.gids.push(entry.gid);
    columns.mtimes.push(entry.mtime - previousMtime);
    previousMtime = entry.mtime;
    if (entry.linkname !== undefined) columns.links[i] = entry.linkname;
    if (entry.type === 'file') digests.push(Buffer.from(entry.sha256 ?? '', 'hex'));
  });
  const packed = gzipSync(Buffer.from(JSON.stringify(columns), 'latin1'), { level: 6 });
  const head = Buffer.alloc(5);
  head.writeUInt8(FORMAT, 0);
  head.writeUInt32BE(packed.length, 1);
  return Buffer.concat([head, packed, ...digests]);
}

export function decodeArchiveDigests(bytes: Uint8Array): ArchiveDigests {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 5 || buffer.readUInt8(0) !== FORMAT) throw new Error(`backup-time listing format ${buffer[0]} is not supported`);
  const packedLength = buffer.readUInt32BE(1);
  // JSON escapes every control character, and latin1 gives back each byte as one character.
  const columns = JSON.parse(gunzipSync(buffer.subarray(5, 5 + packedLength)).toString('latin1')) as EncodedColumns;
  let digestOffset = 5 + packedLength;
  const names = frontDecode(columns.shared, columns.rest);
  const entries: DigestEntry[] = new Array(names.length);
  let mtime = 0;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    mtime += columns.mtimes[i]!;
    const type = TYPES[columns.types[i]!] ?? 'other';
    const linkname = columns.links[i];
    let sha256: string | undefined;
    if (type === 'file') {
      if (digestOffset + DIGEST_BYTES > buffer.length) throw new Error('backup-time listing is cut short');
      sha256 = buffer.toString('hex', digestOffset, digestOffset + DIGEST_BYTES);
      digestOffset += DIGEST_BYTES;
    }
    entries[i] = {
      name,
      type,
      size: columns.sizes[i]!,
      mode: columns.modes[i]!,
      uid: columns.uids[i]!,
      gid: columns.gids[i]!,
      mtime,
      ...(linkname !== undefined ? { linkname } : {}),
      ...(sha256 !== undefined ? { sha256 } : {}),
    };
  }
  return { entries };
}
