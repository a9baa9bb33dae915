import { gunzipSync, gzipSync } from 'node:zlib';
import type { ArchiveIndex, ArchiveIndexEntry, IndexedChainArchive } from './archiveIndex';

const FORMAT = 1;

/** Column arrays instead of one object per entry: the key names would otherwise be most of the bytes. */
interface EncodedIndex {
  readonly v: number;
  /** Front coding: characters shared with the previous path, then the rest. */
  readonly shared: number[];
  readonly rest: string[];
  readonly types: string[];
  readonly sizes: number[];
  readonly modes: number[];
  /** Seconds since the previous entry's mtime, as tar stores whole seconds. */
  readonly mtimes: number[];
  /** Distance from the previous entry's data offset, in 512-byte blocks. */
  readonly offsets: number[];
  readonly links: Record<string, string>;
  readonly files: number;
  readonly bytes: number;
  readonly unsafe: ArchiveIndex['unsafe'];
  /** Incremental backups only: the chain the listing was merged from, and each entry's archive in it. */
  readonly chain?: readonly IndexedChainArchive[];
  readonly sources?: number[];
}

/** A compact, gzip'd form of an index for the history database, which is rewritten whole on each change. */
export function encodeArchiveIndex(index: ArchiveIndex): Uint8Array {
  const typeNames: string[] = [];
  const encoded: EncodedIndex = {
    v: FORMAT,
    shared: [],
    rest: [],
    types: typeNames,
    sizes: [],
    modes: [],
    mtimes: [],
    offsets: [],
    links: {},
    files: index.totals.files,
    bytes: index.totals.bytes,
    unsafe: index.unsafe,
    ...(index.chain ? { chain: index.chain, sources: index.entries.map((e) => e.source ?? 0) } : {}),
  };
  const typeCodes: number[] = [];
  let previousPath = '';
  let previousMtime = 0;
  let previousOffset = 0;
  index.entries.forEach((entry, i) => {
    let shared = 0;
    const limit = Math.min(previousPath.length, entry.path.length);
    while (shared < limit && previousPath.charCodeAt(shared) === entry.path.charCodeAt(shared)) shared++;
    encoded.shared.push(shared);
    encoded.rest.push(entry.path.slice(shared));
    previousPath = entry.path;
    let code = typeNames.indexOf(entry.type);
    if (code < 0) code = typeNames.push(entry.type) - 1;
    typeCodes.push(code);
    encoded.sizes.push(entry.size);
    encoded.modes.push(entry.mode);
    const mtime = Math.round(entry.mtimeMs / 1000);
    encoded.mtimes.push(mtime - previousMtime);
    previousMtime = mtime;
    encoded.offsets.push((entry.dataOffset - previousOffset) / 512);
    previousOffset = entry.dataOffset;
    if (entry.linkname !== undefined) encoded.links[i] = entry.linkname;
  });
  const json = JSON.stringify({ ...encoded, typeCodes });
  return gzipSync(json, { level: 6 });
}

export function decodeArchiveIndex(bytes: Uint8Array): ArchiveIndex {
  const parsed = JSON.parse(gunzipSync(bytes).toString('utf8')) as EncodedIndex & { typeCodes: number[] };
  if (parsed.v !== FORMAT) throw new Error(`archive listing format ${parsed.v} is not supported`);
  const entries: ArchiveIndexEntry[] = new Array(parsed.rest.length);
  let previousPath = '';
  let mtime = 0;
  let offset = 0;
  for (let i = 0; i < parsed.rest.length; i++) {
    const path = previousPath.slice(0, parsed.shared[i]) + parsed.rest[i];
    previousPath = path;
    mtime += parsed.mtimes[i]!;
    offset += parsed.offsets[i]! * 512;
    const linkname = parsed.links[i];
    entries[i] = {
      path,
      type: parsed.types[parsed.typeCodes[i]!]!,
      size: parsed.sizes[i]!,
      mode: parsed.modes[i]!,
      mtimeMs: mtime * 1000,
      ...(linkname !== undefined ? { linkname } : {}),
      dataOffset: offset,
      ...(parsed.sources ? { source: parsed.sources[i]! } : {}),
    };
  }
  const chain = parsed.chain ? { chain: parsed.chain } : {};
  return { entries, totals: { files: parsed.files, bytes: parsed.bytes }, unsafe: parsed.unsafe, ...chain };
}
