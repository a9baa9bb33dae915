import { normaliseDigestName, type ArchiveDigests, type DigestEntry } from '../archive/archiveDigests';
import { MANIFEST_PATH } from './incrementalManifest';

/**
 * Every entry of the volume at an incremental backup, with its data's SHA-256: the base backup's entries
 * (themselves the volume at the base) less what the manifest removed and what this archive carries again,
 * then this archive's entries. What a restore drill of the incremental backup compares the volume with.
 */
export function pointInTimeDigests(base: ArchiveDigests, removed: readonly string[], sent: ArchiveDigests): ArchiveDigests {
  const gone = new Set(removed.map(normaliseDigestName));
  const replaced = new Set(sent.entries.map((e) => e.name));
  const kept = base.entries.filter((e) => !replaced.has(e.name) && !gone.has(e.name) && !underAny(e.name, gone));
  const added = sent.entries.filter((e) => e.name !== MANIFEST_PATH);
  return { entries: [...kept, ...added].sort(byName) };
}

function underAny(name: string, folders: ReadonlySet<string>): boolean {
  for (let cut = name.lastIndexOf('/'); cut > 0; cut = name.lastIndexOf('/', cut - 1)) {
    if (folders.has(name.slice(0, cut))) return true;
  }
  return false;
}

function byName(a: DigestEntry, b: DigestEntry): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
