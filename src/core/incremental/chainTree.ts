import { normaliseDigestName } from '../archive/archiveDigests';
import { pathBytes, type IncrementalManifest } from './incrementalManifest';

/** One archive of a chain, oldest first: the full backup, then each incremental one. */
export interface ChainArchive {
  readonly path: string;
  /** The history row and archive checksum, when known: checked against the next archive's manifest. */
  readonly id?: number;
  readonly sha256?: string;
  /** Undefined for the full backup that starts the chain. */
  readonly manifest?: IncrementalManifest;
  /** Member names as latin1 byte strings (normaliseDigestName form: no `./`, root ''), manifest left out. */
  readonly members: readonly string[];
}

export interface ChainTree {
  /** Every path of the final tree and the index (in the chain) of the archive whose copy of it wins. */
  readonly sources: ReadonlyMap<string, number>;
  /** Paths some archive of the chain held that the final tree no longer has. */
  readonly deleted: ReadonlySet<string>;
}

export class BrokenChainError extends Error {}

/**
 * The tree a restore of the whole chain ends with, as restoring by hand makes it: for each archive in
 * order, remove the paths its manifest lists (with all they hold), then extract it over what is there.
 */
export function resolveChainTree(chain: readonly ChainArchive[]): ChainTree {
  checkLinks(chain);
  const sources = new Map<string, number>();
  const deleted = new Set<string>();
  chain.forEach((archive, index) => {
    const removals = new Set((archive.manifest?.deleted ?? []).map((p) => normaliseDigestName(pathBytes(p))));
    if (removals.size) {
      for (const path of sources.keys()) {
        if (removals.has(path) || hasAncestorIn(path, removals)) {
          sources.delete(path);
          deleted.add(path);
        }
      }
      for (const path of removals) deleted.add(path);
    }
    for (const member of archive.members) {
      sources.set(member, index);
      deleted.delete(member);
    }
  });
  return { sources, deleted };
}

function hasAncestorIn(path: string, set: ReadonlySet<string>): boolean {
  for (let cut = path.lastIndexOf('/'); cut > 0; cut = path.lastIndexOf('/', cut - 1)) {
    if (set.has(path.slice(0, cut))) return true;
  }
  return false;
}

/** A chain starts with a full backup, and each incremental archive names the ones before it, in order. */
function checkLinks(chain: readonly ChainArchive[]): void {
  if (chain.length === 0) throw new BrokenChainError('a chain holds at least the full backup it starts from');
  if (chain[0]!.manifest) {
    throw new BrokenChainError(`${chain[0]!.path} is an incremental archive; a chain starts with the full backup named first in its manifest`);
  }
  chain.forEach((archive, index) => {
    if (index === 0) return;
    const m = archive.manifest;
    if (!m) throw new BrokenChainError(`${archive.path} is a full backup, so it cannot follow ${chain[index - 1]!.path} in a chain`);
    if (m.chain.length !== index) {
      throw new BrokenChainError(`${archive.path} builds on ${m.chain.length} earlier archives, but the chain gives it ${index}; restore its own chain (ids ${m.chain.map((r) => r.id).join(', ')})`);
    }
    m.chain.forEach((ref, at) => {
      const earlier = chain[at]!;
      if ((earlier.id !== undefined && earlier.id !== ref.id) || (earlier.sha256 !== undefined && earlier.sha256 !== ref.sha256)) {
        throw new BrokenChainError(`${archive.path} builds on backup ${ref.id} (sha256 ${ref.sha256.slice(0, 12)}...), not on ${earlier.path}; find that backup's archive`);
      }
    });
  });
}
