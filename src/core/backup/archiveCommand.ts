import { DATA_MOUNT } from './helperPodSpec';

export const TRAILER_PREFIX = 'nkvm-trailer';

/**
 * The shell run in the helper: a gzip tar of the volume on stdout, and on stderr a last line with the
 * sha256 and byte count of exactly the bytes sent, plus tar's own exit status. POSIX sh and BusyBox
 * only (the default image is alpine): no pipefail, no GNU-only flags.
 */
export function archiveCommand(): string[] {
  const script = [
    `cd ${DATA_MOUNT} || exit 2`,
    't=$(mktemp -d) || exit 2',
    'mkfifo "$t/sum" "$t/len" || exit 2',
    'sha256sum < "$t/sum" > "$t/sum.out" &',
    'wc -c < "$t/len" > "$t/len.out" &',
    '{ tar czf - . ; echo $? > "$t/rc"; } | tee "$t/sum" "$t/len"',
    'wait',
    'rc=$(cat "$t/rc" 2>/dev/null || echo 2)',
    `echo "${TRAILER_PREFIX} sha256=$(cut -d' ' -f1 "$t/sum.out") bytes=$(tr -d ' ' < "$t/len.out") tar-exit=$rc" >&2`,
    'rm -rf "$t"',
    'exit $rc',
  ].join('\n');
  return ['sh', '-c', script];
}

export interface ArchiveTrailer {
  sha256: string;
  bytes: number;
  tarExit: number;
}

/** Splits the helper's stderr into tar's messages and the trailer line. */
export function parseArchiveStderr(stderr: string): { trailer?: ArchiveTrailer; messages: string[] } {
  const lines = stderr.split('\n').map((l) => l.trimEnd()).filter(Boolean);
  const messages: string[] = [];
  let trailer: ArchiveTrailer | undefined;
  for (const line of lines) {
    const m = new RegExp(`^${TRAILER_PREFIX} sha256=([0-9a-f]{64}) bytes=(\\d+) tar-exit=(\\d+)$`).exec(line);
    if (m) trailer = { sha256: m[1], bytes: Number(m[2]), tarExit: Number(m[3]) };
    else messages.push(line);
  }
  return { trailer, messages };
}
