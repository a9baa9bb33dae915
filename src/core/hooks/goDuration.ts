/** Nanoseconds per unit, as Go's time.ParseDuration knows them (`µs` and `μs` are two spellings of one unit). */
const UNITS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const PART = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;

/**
 * Parses a Go duration (`30s`, `1m30s`, `1.5h`, `-2m`, `0`) into milliseconds, or undefined when Go would
 * refuse it. Velero reads hook timeouts with time.ParseDuration, so the same texts must mean the same here.
 */
export function parseGoDuration(text: string): number | undefined {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    sign = rest.startsWith('-') ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let nanos = 0;
  while (rest !== '') {
    const m = PART.exec(rest);
    // Go needs digits before or after the point, and a unit after every number.
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return undefined;
    nanos += Number(`${m[1] || '0'}.${m[2] || '0'}`) * UNITS[m[3]!]!;
    rest = rest.slice(m[0].length);
  }
  return (sign * nanos) / 1e6;
}

/** A duration in milliseconds in Go's own short form (`30s`, `1m30s`, `1.5s`), for messages. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let left = Math.abs(ms);
  if (left < 1000) return `${sign}${+left.toFixed(3)}ms`;
  const hours = Math.floor(left / 3600_000);
  left -= hours * 3600_000;
  const minutes = Math.floor(left / 60_000);
  left -= minutes * 60_000;
  const seconds = +(left / 1000).toFixed(3);
  return `${sign}${hours ? `${hours}h` : ''}${hours || minutes ? `${minutes}m` : ''}${seconds}s`;
}
