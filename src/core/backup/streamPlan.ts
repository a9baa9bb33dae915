import type { ListedEntry } from '../incremental/podListing';

/** `auto`, or how many exec streams a backup uses at once. */
export type StreamCount = 'auto' | number;

export const MAX_STREAMS = 8;
/** What `auto` uses at most: past four streams a helper's disk and CPU, not the links, decide. */
export const AUTO_STREAMS = 4;
/** Below this much data a volume goes through one exec: setting up more would cost more than it saves. */
export const PARALLEL_FROM_BYTES = 256 * 1024 * 1024;
/**
 * A piece is what a broken stream sends again: small enough that a cut costs little, large enough that
 * starting its exec (a round trip through the API server and the kubelet) is a small part of it.
 */
export const MIN_PIECE_BYTES = 8 * 1024 * 1024;
export const MAX_PIECE_BYTES = 64 * 1024 * 1024;
const BLOCK = 512;

/** A run of whole entries sent by one tar over one exec, a complete or missing part of the archive. */
export interface TransferPiece {
  readonly index: number;
  /** Names (latin1 bytes, `.` for the root) in listing order, the other names of a hard-linked file with the first. */
  readonly names: string[];
  /** About what the tar of these names holds before compression. */
  bytes: number;
}

/**
 * How many streams a backup of `volumeBytes` uses: the number asked for, or for `auto` one for a small
 * volume and up to four for a large one, no more than the helper's CPU limit (whole cores) since each
 * stream runs its own tar and gzip.
 */
export function streamsFor(requested: StreamCount, volumeBytes: number, cpuLimitCores?: number): number {
  if (requested !== 'auto') return Math.min(MAX_STREAMS, Math.max(1, Math.floor(requested)));
  if (volumeBytes < PARALLEL_FROM_BYTES) return 1;
  const cores = cpuLimitCores === undefined ? AUTO_STREAMS : Math.max(1, Math.floor(cpuLimitCores));
  return Math.min(AUTO_STREAMS, cores);
}

/** The bytes tar writes for an entry: its header and its data padded to whole blocks. */
function tarBytes(entry: Pick<ListedEntry, 'type' | 'size'>): number {
  return BLOCK + (entry.type === 'file' ? Math.ceil(entry.size / BLOCK) * BLOCK : 0);
}

/**
 * Splits the entries a backup sends into pieces of about equal size in listing order, so that the pieces
 * joined in order are the archive one tar would have written: about four per stream, between 8 and 64 MB,
 * a large file alone in its piece. Every name of a hard-linked file goes into the piece of its first name,
 * where tar stores the later ones as links to it. `other` entries (fifos, sockets, devices) are not sent.
 */
export function planPieces(entries: readonly ListedEntry[], names: ReadonlySet<string> | undefined, streams: number, options: { pieceBytes?: number } = {}): TransferPiece[] {
  const sent = entries.filter((e) => e.type !== 'other' && (names === undefined || names.has(e.name)));
  const total = sent.reduce((sum, e) => sum + tarBytes(e), 0);
  const pieceBytes = options.pieceBytes ?? Math.min(MAX_PIECE_BYTES, Math.max(MIN_PIECE_BYTES, Math.ceil(total / (streams * 4))));
  const pieces: TransferPiece[] = [];
  const pieceOfInode = new Map<number, TransferPiece>();
  let current: TransferPiece | undefined;
  for (const entry of sent) {
    const linked = entry.type === 'file' && entry.links > 1;
    const first = linked ? pieceOfInode.get(entry.inode) : undefined;
    if (first) {
      first.names.push(entry.name);
      first.bytes += BLOCK;
      continue;
    }
    const bytes = tarBytes(entry);
    if (!current || (current.bytes > 0 && current.bytes + bytes > pieceBytes)) {
      current = { index: pieces.length, names: [], bytes: 0 };
      pieces.push(current);
    }
    current.names.push(entry.name);
    current.bytes += bytes;
    if (linked) pieceOfInode.set(entry.inode, current);
  }
  return pieces;
}
