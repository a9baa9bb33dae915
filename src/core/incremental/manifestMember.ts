import { gzipSync } from 'node:zlib';
import { scanArchive } from '../archive/archiveScan';
import { MANIFEST_MEMBER, MANIFEST_PATH, parseManifest, type IncrementalManifest } from './incrementalManifest';

const BLOCK = 512;

/**
 * The manifest as a gzip member of its own: a ustar header and the JSON, padded to a block, and no
 * end-of-archive blocks, so that the pod's gzip'd tar written right after it makes one standard .tar.gz
 * (gzip readers go on across members; the tar goes on from the manifest into the pod's first header).
 */
export function manifestMember(manifest: IncrementalManifest, mtime = new Date(manifest.createdAt)): Buffer {
  return gzipSync(manifestBlocks(manifest, mtime), { level: 9 });
}

/** The manifest's tar header and padded content, for an archive written without compression. */
export function manifestBlocks(manifest: IncrementalManifest, mtime = new Date(manifest.createdAt)): Buffer {
  const body = Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`, 'utf8');
  const padding = Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK);
  return Buffer.concat([ustarHeader(MANIFEST_MEMBER, body.length, mtime), body, padding]);
}

/** The two zero blocks that end a tar, gzip'd: what follows the manifest when nothing changed. */
export function endOfArchiveMember(): Buffer {
  return gzipSync(endOfArchiveBlocks());
}

export function endOfArchiveBlocks(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}

function ustarHeader(name: string, size: number, mtime: Date): Buffer {
  const header = Buffer.alloc(BLOCK);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write(`${Math.max(0, Math.floor(mtime.getTime() / 1000)).toString(8).padStart(11, '0')}\0`, 136, 'latin1');
  header.write('        ', 148, 'latin1');
  header.write('0', 156, 'latin1');
  header.write('ustar\0', 257, 'latin1');
  header.write('00', 263, 'latin1');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return header;
}

/**
 * The manifest of an incremental archive (its first member), or undefined for a full backup's archive.
 * Throws when the first member has the manifest's name but not its content.
 */
export async function readManifest(archivePath: string, signal?: AbortSignal): Promise<IncrementalManifest | undefined> {
  let manifest: IncrementalManifest | undefined;
  await scanArchive(
    archivePath,
    async (entry) => {
      if (entry.path === MANIFEST_PATH && entry.type === 'file') {
        const chunks: Buffer[] = [];
        for await (const chunk of entry.body) chunks.push(chunk);
        manifest = parseManifest(Buffer.concat(chunks).toString('utf8'));
      }
      return false;
    },
    { signal },
  );
  return manifest;
}
