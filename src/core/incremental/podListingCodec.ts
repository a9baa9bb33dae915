import { frontCode, frontDecode } from '../archive/nameFrontCoding';
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ListedEntry, ListedType, PodListing } from './podListing';

const FORMAT = 1;
const TYPES: readonly ListedType[] = ['file', 'directory', 'symlink', 'other'];

/** Column arrays, as in archiveDigestsCodec: key names would otherwise be most of the bytes. */
interface EncodedColumns {
  readonly v: number;
  readonly start: [number, number];
  /** Front coding of the names (latin1 byte strings): characters shared with the previous name, then the rest. */
  readonly shared: number[];
  readonly rest: string[];
  readonly types: number[];
  readonly sizes: number[];
  readonly modes: number[];
  readonly uids: number[];
  readonly gids: number[];
  /** mtime seconds since the previous entry's; ctime seconds since the entry's own mtime (mostly 0). */
  readonly mtimes: number[];
  readonly mtimeNs: number[];
  readonly ctimes: number[];
  readonly ctimeNs: number[];
  readonly inodes: number[];
  readonly links: number[];
  readonly targets: Record<string, string>;
}

export interface EncodedPodListing {
  /** What the history keeps: a format byte, then the gzip'd columns. */
  readonly bytes: Uint8Array;
  /** SHA-256 of the columns before gzip, so the same listing has the same digest whatever zlib does. */
  readonly sha256: string;
  /** How many entries it holds. */
  readonly entries: number;
}

export function encodePodListing(listing: PodListing): EncodedPodListing {
  const c: EncodedColumns = {
    v: FORMAT, start: [listing.startedAt.s, listing.startedAt.ns], ...frontCode(listing.entries.map((e) => e.name)), types: [], sizes: [], modes: [],
    uids: [], gids: [], mtimes: [], mtimeNs: [], ctimes: [], ctimeNs: [], inodes: [], links: [], targets: {},
  };
  let previousMtime = 0;
  listing.entries.forEach((e, i) => {
    c.types.push(TYPES.indexOf(e.type));
    c.sizes.push(e.size);
    c.modes.push(e.mode);
    c.uids.push(e.uid);
    c.gids.push(e.gid);
    c.mtimes.push(e.mtime.s - previousMtime);
    previousMtime = e.mtime.s;
    c.mtimeNs.push(e.mtime.ns);
    c.ctimes.push(e.ctime.s - e.mtime.s);
    c.ctimeNs.push(e.ctime.ns);
    c.inodes.push(e.inode);
    c.links.push(e.links);
    if (e.linkname !== undefined) c.targets[i] = e.linkname;
  });
  const json = Buffer.from(JSON.stringify(c), 'latin1');
  const packed = gzipSync(json, { level: 6 });
  return { bytes: Buffer.concat([Buffer.from([FORMAT]), packed]), sha256: createHash('sha256').update(json).digest('hex'), entries: listing.entries.length };
}

export function decodePodListing(bytes: Uint8Array): PodListing & { readonly sha256: string } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 2 || buffer[0] !== FORMAT) throw new Error(`pod listing format ${buffer[0]} is not supported`);
  const json = gunzipSync(buffer.subarray(1));
  // JSON escapes every control character, and latin1 gives back each byte as one character.
  const c = JSON.parse(json.toString('latin1')) as EncodedColumns;
  const names = frontDecode(c.shared, c.rest);
  const entries: ListedEntry[] = new Array(names.length);
  let mtime = 0;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    mtime += c.mtimes[i]!;
    const linkname = c.targets[i];
    entries[i] = {
      name,
      type: TYPES[c.types[i]!] ?? 'other',
      size: c.sizes[i]!,
      mtime: { s: mtime, ns: c.mtimeNs[i]! },
      ctime: { s: mtime + c.ctimes[i]!, ns: c.ctimeNs[i]! },
      mode: c.modes[i]!,
      uid: c.uids[i]!,
      gid: c.gids[i]!,
      inode: c.inodes[i]!,
      links: c.links[i]!,
      ...(linkname !== undefined ? { linkname } : {}),
    };
  }
  return { startedAt: { s: c.start[0], ns: c.start[1] }, entries, sha256: createHash('sha256').update(json).digest('hex') };
}
