import { DATA_MOUNT } from './helperPodSpec';

export const TRAILER_PREFIX = 'nkvm-trailer';

/**
 * The shell run in the helper: a gzip tar of the volume on stdout, and on stderr a last line with the
 * sha256 of exactly the bytes sent (which also pins their length), plus tar's own exit status. POSIX sh and BusyBox
 * only (the default image is alpine): no pipefail, no GNU-only flags.
 */
export function archiveCommand(): string[] {
  const script = [
    `cd ${DATA_MOUNT} || exit 2`,
    't=$(mktemp -d) || exit 2',
    'mkfifo "$t/sum" || exit 2',
    'sha256sum < "$t/sum" > "$t/sum.out" &',
    // No `wc -c`: BusyBox reads a pipe byte by byte, which cost gzip a tenth of its CPU.
    '{ tar czf - . ; echo $? > "$t/rc"; } | tee "$t/sum"',
    'wait',
    'rc=$(cat "$t/rc" 2>/dev/null || echo 2)',
    `echo "${TRAILER_PREFIX} sha256=$(cut -d' ' -f1 "$t/sum.out") tar-exit=$rc" >&2`,
    'rm -rf "$t"',
    'exit $rc',
  ].join('\n');
  return ['sh', '-c', script];
}

export interface ArchiveTrailer {
  sha256: string;
  tarExit: number;
}

/** Splits the helper's stderr into tar's messages and the trailer line. */
export function parseArchiveStderr(stderr: string): { trailer?: ArchiveTrailer; messages: string[] } {
  const lines = stderr.split('\n').map((l) => l.trimEnd()).filter(Boolean);
  const messages: string[] = [];
  let trailer: ArchiveTrailer | undefined;
  for (const line of lines) {
    const m = new RegExp(`^${TRAILER_PREFIX} sha256=([0-9a-f]{64}) tar-exit=(\\d+)$`).exec(line);
    if (m) trailer = { sha256: m[1], tarExit: Number(m[2]) };
    else messages.push(line);
  }
  return { trailer, messages };
}
