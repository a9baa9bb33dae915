import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import { normaliseDigestName } from '../archive/archiveDigests';
import { openArchiveTar } from './archiveTarReader';
import { BrokenChainError } from './chainTree';
import { describeLink, type MergeArchive, type OpenedChain } from './openChain';
import { rawTarEntries, roundUp, type RawTarEntry } from './rawTarEntries';
import { hardLinkAsFile, headerBlocks } from './rawTarHeaders';

export interface MergeOptions {
  /** Paths (latin1 byte strings, as chain members are named) to keep: each with all it holds. Default: everything. */
  readonly paths?: readonly string[];
  readonly signal?: AbortSignal;
  /** Where a hard link's data waits when the link's target is left out of the stream. Default: the system temp folder. */
  readonly spoolDir?: string;
}

const BLOCK = 512;

/**
 * The volume as it was at the chain's newest archive, as ONE plain tar stream: each path once, in its newest
 * version, deleted paths and manifests left out. Each archive is read once, oldest first, and its header
 * blocks are copied as they are (names as bytes, pax and GNU extensions, modes, owners, times). Memory stays
 * bounded: data passes through with the consumer's backpressure.
 *
 * Order: a path other than a folder is written where the archive that supplies it holds it. A folder is
 * written, with the header of the archive that supplies it, where it first appears in the tree for good
 * (`since`): a folder that a later archive only changed (mode, time) is thus written before the children
 * the older archives hold. Parents come before children: a child in the tree at archive k was under its
 * parent folder from then on, so the folder is there since k or earlier; from an earlier archive it was
 * written in an earlier pass, and from archive k itself tar wrote it before the child, as tar writes a
 * folder before what it holds (a folder created in a later archive comes before its children there).
 */
export function mergedChainStream(chain: OpenedChain, options: MergeOptions = {}): Readable {
  return Readable.from(mergeChain(chain, options), { objectMode: false, highWaterMark: 256 * 1024 });
}

async function* mergeChain(chain: OpenedChain, options: MergeOptions): AsyncGenerator<Buffer> {
  const selected = mergeSelection(options.paths);
  const spool = new HardLinkSpool(options.spoolDir ?? tmpdir());
  try {
    for (let index = 0; index < chain.archives.length; index++) {
      yield* mergeArchive(chain, index, selected, spool, options.signal);
    }
    yield Buffer.alloc(2 * BLOCK);
  } finally {
    await spool.dispose();
  }
}

async function* mergeArchive(
  chain: OpenedChain,
  index: number,
  selected: (path: string) => boolean,
  spool: HardLinkSpool,
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer> {
  const archive = chain.archives[index]!;
  const { sources } = chain.tree;
  const written = (path: string): boolean => selected(path) && sources.get(path) === index;
  const needed = linkTargetsLeftOut(archive, written);
  const tar = await openArchiveTar(archive.path).catch((error: Error) => {
    throw new BrokenChainError(`${describeLink(archive)} cannot be read any more (${error.message}); check the file and try again`);
  });
  const inStream = new Set<string>();
  try {
    let first = true;
    for await (const { entry, data } of rawTarEntries(tar.reader)) {
      signal?.throwIfAborted();
      const isManifest = first && archive.manifest !== undefined;
      first = false;
      if (isManifest) continue;
      const name = normaliseDigestName(entry.name);
      if (entry.typeflag === '5') {
        if (selected(name) && chain.since.get(name) === index && sources.has(name)) {
          const from = sources.get(name)!;
          yield from === index ? headerBlocks(entry) : chain.archives[from]!.folderHeaders.get(name) ?? headerBlocks(entry);
        }
        continue;
      }
      if (needed.has(name)) await spool.keep(name, entry.size, data);
      if (!written(name)) continue;
      if (entry.typeflag === '1') {
        const target = normaliseDigestName(entry.linkname);
        if (inStream.has(target)) yield headerBlocks(entry);
        else yield* spool.replay(target, entry);
        continue;
      }
      yield headerBlocks(entry);
      yield* data;
      const padding = roundUp(entry.size) - entry.size;
      if (padding) yield Buffer.alloc(padding);
      if (entry.typeflag === '0' || entry.typeflag === '7') inStream.add(name);
    }
    await tar.reader.drain();
  } catch (error) {
    if (error instanceof BrokenChainError || signal?.aborted) throw error;
    const reason = (error as Error).message;
    throw new BrokenChainError(`${describeLink(archive)} could not be read to the end (${reason}); check the file and try again`);
  } finally {
    tar.close();
  }
  // What openChain saw (and a restore counted from its headers) must be what was sent: checked per archive, once read.
  const now = tar.sha256();
  if (archive.sha256 !== undefined && now !== archive.sha256) {
    throw new BrokenChainError(
      `${describeLink(archive)} changed while the chain was read (sha256 ${archive.sha256.slice(0, 12)}... when opened, ` +
        `${now.slice(0, 12)}... now); try again once nothing writes to it`,
    );
  }
}

/** Targets of hard links this archive writes whose own entry it does not write: their data must wait for the link. */
export function linkTargetsLeftOut(archive: MergeArchive, written: (path: string) => boolean): Set<string> {
  const needed = new Set<string>();
  for (const [link, target] of archive.hardLinks) if (written(link) && !written(target)) needed.add(target);
  return needed;
}

/** Whether a member (normalised name) is under one of `paths`: everything without paths. */
export function mergeSelection(paths: readonly string[] | undefined): (path: string) => boolean {
  if (!paths) return () => true;
  const roots = new Set(paths.map(normaliseDigestName));
  if (roots.has('')) return () => true;
  return (path) => {
    if (roots.has(path)) return true;
    for (let cut = path.lastIndexOf('/'); cut > 0; cut = path.lastIndexOf('/', cut - 1)) if (roots.has(path.slice(0, cut))) return true;
    return false;
  };
}

/**
 * Data of hard link targets left out of the stream (not selected, or replaced by a later archive), kept in
 * temporary files so that a link to them can be written as a regular file without holding the data in memory.
 */
class HardLinkSpool {
  private folder: string | undefined;
  private readonly files = new Map<string, { path: string; size: number }>();

  constructor(private readonly parent: string) {}

  async keep(name: string, size: number, data: AsyncIterable<Buffer>): Promise<void> {
    this.folder ??= await mkdtemp(join(this.parent, 'nkvm-merge-'));
    const path = join(this.folder, String(this.files.size));
    const out: WriteStream = createWriteStream(path);
    try {
      for await (const chunk of data) if (!out.write(chunk)) await once(out, 'drain');
      out.end();
      await once(out, 'finish');
    } finally {
      out.destroy();
    }
    this.files.set(name, { path, size });
  }

  async *replay(target: string, link: RawTarEntry): AsyncGenerator<Buffer> {
    const kept = this.files.get(target);
    if (!kept) throw new Error(`the hard link ${link.name} points at ${target}, which this archive does not hold before it`);
    yield hardLinkAsFile(link, kept.size);
    yield* createReadStream(kept.path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>;
    const padding = roundUp(kept.size) - kept.size;
    if (padding) yield Buffer.alloc(padding);
  }

  async dispose(): Promise<void> {
    if (this.folder) await rm(this.folder, { recursive: true, force: true });
  }
}
