/** Where the manifest lies in an incremental archive: its first member. Restores exclude exactly this name. */
export const MANIFEST_MEMBER = './.nkvm/incremental.json';
/** The same name as listings and chain trees write it (without `./`). */
export const MANIFEST_PATH = '.nkvm/incremental.json';
export const MANIFEST_FORMAT = 'nkvm-incremental';
export const MANIFEST_VERSION = 1;

/** A path as bytes: a plain string when its bytes are UTF-8, else the bytes in base64. */
export type ManifestPath = string | { readonly base64: string };

export interface ArchiveRef {
  /** The history row of the backup. */
  readonly id: number;
  /** SHA-256 of the archive file, as the history records it. */
  readonly sha256: string;
}

export interface IncrementalManifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly version: number;
  readonly kind: 'incremental';
  readonly createdAt: string;
  /** The backup this one records changes against. */
  readonly base: ArchiveRef;
  /** Every archive a restore needs before this one, oldest (the full backup) first; ends with `base`. */
  readonly chain: readonly ArchiveRef[];
  /**
   * Paths to remove before extracting this archive: deleted ones, and ones whose type changed (their new
   * form is in this archive). A removed folder goes with all it holds.
   */
  readonly deleted: readonly ManifestPath[];
  /** The volume's whole listing at this backup (podListingCodec's digest) and its size. */
  readonly listing: { readonly sha256: string; readonly entries: number };
  readonly counts: {
    readonly changed: number;
    readonly added: number;
    readonly typeChanged: number;
    readonly unchanged: number;
    readonly deleted: number;
    readonly sentEntries: number;
    readonly sentBytes: number;
  };
}

/** A latin1 byte string as a manifest path. */
export function manifestPath(name: string): ManifestPath {
  const bytes = Buffer.from(name, 'latin1');
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : { base64: bytes.toString('base64') };
}

/** A manifest path back as a latin1 byte string. */
export function pathBytes(path: ManifestPath): string {
  return (typeof path === 'string' ? Buffer.from(path, 'utf8') : Buffer.from(path.base64, 'base64')).toString('latin1');
}

/** Reads a manifest's JSON; throws with what is wrong, so a damaged or foreign file is never half-trusted. */
export function parseManifest(json: string): IncrementalManifest {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new Error(`the incremental manifest is not JSON: ${(error as Error).message}`);
  }
  const m = value as Partial<IncrementalManifest> | null;
  if (!m || m.format !== MANIFEST_FORMAT) throw new Error(`the incremental manifest's format is not ${MANIFEST_FORMAT}`);
  if (typeof m.version !== 'number' || m.version > MANIFEST_VERSION) {
    throw new Error(`incremental manifest version ${String(m.version)} is newer than this version of nkvm reads (${MANIFEST_VERSION}); update nkvm`);
  }
  if (m.kind !== 'incremental' || !m.base || !Array.isArray(m.chain) || !Array.isArray(m.deleted) || !m.counts || !m.listing) {
    throw new Error('the incremental manifest lacks its base, chain, deleted paths, listing or counts');
  }
  return m as IncrementalManifest;
}
