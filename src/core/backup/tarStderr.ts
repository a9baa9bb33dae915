import { StringDecoder } from 'node:string_decoder';
import { ArchiveTrailer, SKIPPED_PREFIX, TRAILER_PREFIX } from './archiveCommand';
import { readProblemOf } from './unreadablePaths';

/** Lines kept from the start and from the end of tar's stderr; those between are only counted. */
export const KEPT_HEAD_LINES = 20;
export const KEPT_TAIL_LINES = 20;
/** Unreadable paths named in the result; the rest are counted. */
export const KEPT_UNREADABLE_PATHS = 20;
/** A longer line is cut: one line without a newline must not grow without bound either. */
export const MAX_LINE_CHARS = 1000;

export interface TarStderrSummary {
  trailer?: ArchiveTrailer;
  /** Lines printed, the trailer excluded. */
  lines: number;
  head: string[];
  tail: string[];
  /** Lines neither in `head` nor in `tail`. */
  omitted: number;
  unreadable: { count: number; paths: string[] };
  changed: number;
  /** Lines that are neither read problems nor tar's closing line: real errors. */
  otherErrors: number;
  /** Fifos, sockets and devices the helper left out, counted, the first ones named with their kind. */
  skipped: { count: number; entries: { kind: string; path: string }[] };
}

/**
 * Reads the helper's stderr as it streams, keeping memory bounded however many lines tar prints
 * (a volume of 100,000 unreadable files prints 100,000 lines): the first and last lines, a count
 * of the others, the unreadable paths counted with the first few named, and the checksum trailer.
 */
export class TarStderr {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private readonly summary: TarStderrSummary = { lines: 0, head: [], tail: [], omitted: 0, unreadable: { count: 0, paths: [] }, changed: 0, otherErrors: 0, skipped: { count: 0, entries: [] } };
  private readonly trailerPattern = new RegExp(`^${TRAILER_PREFIX} sha256=(-|[0-9a-f]{64}) tar-exit=(\\d+)$`);
  private readonly skippedPattern = new RegExp(`^${SKIPPED_PREFIX} ([a-z-]+) ((?:[0-9a-f]{2})*)$`);

  write(chunk: Buffer): void {
    let text = this.pending + this.decoder.write(chunk);
    let newline = text.indexOf('\n');
    while (newline >= 0) {
      this.line(text.slice(0, newline));
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    // A line still open is kept only up to the cut; the rest of it is dropped as it arrives.
    this.pending = text.length > MAX_LINE_CHARS ? text.slice(0, MAX_LINE_CHARS) : text;
  }

  end(): TarStderrSummary {
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    if (rest) this.line(rest);
    return this.summary;
  }

  private line(raw: string): void {
    const line = raw.trimEnd().slice(0, MAX_LINE_CHARS);
    if (!line) return;
    const s = this.summary;
    const trailer = this.trailerPattern.exec(line);
    if (trailer) {
      s.trailer = { ...(trailer[1] === '-' ? {} : { sha256: trailer[1] }), tarExit: Number(trailer[2]) };
      return;
    }
    const skipped = this.skippedPattern.exec(line);
    if (skipped) {
      s.skipped.count++;
      if (s.skipped.entries.length < KEPT_UNREADABLE_PATHS) s.skipped.entries.push({ kind: skipped[1], path: displayName(Buffer.from(skipped[2], 'hex')) });
      return;
    }
    s.lines++;
    const problem = readProblemOf(line);
    if (problem?.kind === 'unreadable') {
      s.unreadable.count++;
      if (s.unreadable.paths.length < KEPT_UNREADABLE_PATHS) s.unreadable.paths.push(problem.path);
    } else if (problem?.kind === 'changed') s.changed++;
    else if (!problem) s.otherErrors++;
    if (s.head.length < KEPT_HEAD_LINES) {
      s.head.push(line);
      return;
    }
    s.tail.push(line);
    if (s.tail.length > KEPT_TAIL_LINES) {
      s.tail.shift();
      s.omitted++;
    }
  }
}

/** A name's bytes as the volume root-relative path a user reads; control characters such as newlines escaped. */
function displayName(bytes: Buffer): string {
  const path = bytes.toString('utf8').replace(/^\.\//, '');
  return [...path].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) ? JSON.stringify(path) : path;
}

/** "Not backed up: 2 special files a restore cannot recreate (fifo a.fifo, socket run/agent.sock)", or nothing. */
export function skippedNote(summary: TarStderrSummary, shown = 5): string[] {
  const { count, entries } = summary.skipped;
  if (!count) return [];
  const listed = entries.slice(0, shown).map((e) => `${e.kind} ${e.path}`);
  const more = count > listed.length ? `, and ${count - listed.length} more` : '';
  return [`Not backed up: ${count} special ${count === 1 ? 'file' : 'files'} (fifos, sockets, devices) that a restore cannot recreate: ${listed.join(', ')}${more}`];
}

/** The lines a result keeps: the first ones, how many were left out, the last ones. */
export function keptLines(summary: TarStderrSummary): string[] {
  return [...summary.head, ...(summary.omitted ? [`... ${summary.omitted} more lines not kept ...`] : []), ...summary.tail];
}

/** One string of the kept lines, e.g. for a test or a log; the same bound applies. */
export function summarizeStderr(text: string): TarStderrSummary {
  const collector = new TarStderr();
  collector.write(Buffer.from(text));
  return collector.end();
}

/**
 * What tar's exit status and messages mean for the backup. BusyBox tar exits 1 on unreadable files,
 * GNU tar 1 on files that changed and 2 on unreadable ones ("Cannot open: Permission denied"). Either
 * is partial only when no other error was printed: BusyBox also exits 1 when it dies midway
 * (`tar: short read`), and the archive then lacks everything after that file. Exit 2 needs at least
 * one read problem, so a bare status stays a failure.
 */
export function tarOutcome(exitCode: number, stderr: TarStderrSummary): 'complete' | 'partial' | 'failed' {
  if (exitCode === 0) return 'complete';
  if (stderr.otherErrors > 0) return 'failed';
  if (exitCode === 1) return 'partial';
  return exitCode === 2 && stderr.unreadable.count + stderr.changed > 0 ? 'partial' : 'failed';
}

/**
 * The messages of several tars (the parts of one archive) as one summary, bounded as each is: the first
 * lines of the first parts, the last lines of the last ones, every count added up. No trailer: each part's
 * checksum was checked on its own.
 */
export function mergeStderr(parts: readonly TarStderrSummary[]): TarStderrSummary {
  const known = parts.flatMap((p) => [...p.head, ...p.tail]);
  const lines = parts.reduce((n, p) => n + p.lines, 0);
  const head = known.slice(0, KEPT_HEAD_LINES);
  const tail = known.slice(head.length).slice(-KEPT_TAIL_LINES);
  return {
    lines,
    head,
    tail,
    omitted: lines - head.length - tail.length,
    unreadable: { count: parts.reduce((n, p) => n + p.unreadable.count, 0), paths: parts.flatMap((p) => p.unreadable.paths).slice(0, KEPT_UNREADABLE_PATHS) },
    changed: parts.reduce((n, p) => n + p.changed, 0),
    otherErrors: parts.reduce((n, p) => n + p.otherErrors, 0),
    skipped: { count: parts.reduce((n, p) => n + p.skipped.count, 0), entries: parts.flatMap((p) => p.skipped.entries).slice(0, KEPT_UNREADABLE_PATHS) },
  };
}
