import type { HookSource } from './backupHooks';
import type { HookErrorMode, HookPhase } from './hookAnnotations';

/** `failed`: the command exited non-zero or could not start where it should; `error`: the exec itself broke or was cancelled. */
export type HookOutcome = 'ok' | 'failed' | 'timed-out' | 'error';

/** What one hook did; stored in the history's `hooks` column as JSON. */
export interface HookRun {
  readonly phase: HookPhase;
  readonly namespace: string;
  readonly pod: string;
  /** Empty when the pod had no container to run in. */
  readonly container: string;
  readonly command: readonly string[];
  readonly source: HookSource;
  readonly onError: HookErrorMode;
  /** Null when the command did not finish (timeout, error) or never started. */
  readonly exitCode: number | null;
  /** The last 4 KiB of output; `stdoutCutBytes` says how much came before and is not kept. */
  readonly stdout: string;
  readonly stdoutCutBytes: number;
  readonly stderr: string;
  readonly stderrCutBytes: number;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly durationMs: number;
  readonly outcome: HookOutcome;
  readonly message: string;
}

/** The history column's value: the runs as JSON, or null when no hook ran. */
export function hookRunsToHistory(runs: readonly HookRun[]): string | null {
  return runs.length ? JSON.stringify(runs) : null;
}

/** Reads the history column back; a value this version cannot read gives no runs rather than an exception. */
export function hookRunsFromHistory(text: string | null): HookRun[] {
  if (!text) return [];
  try {
    const value = JSON.parse(text) as unknown;
    if (!Array.isArray(value)) return [];
    return value.filter((r) => r && typeof r === 'object' && typeof r.pod === 'string' && typeof r.outcome === 'string') as HookRun[];
  } catch {
    return [];
  }
}

/** One line for reports and the log: `pre hook in shop/orders-db-0 (postgres): exit 0 in 0.4 s`. */
export function describeHookRun(run: HookRun): string {
  const where = `${run.phase} hook in ${run.namespace}/${run.pod}${run.container ? ` (${run.container})` : ''}`;
  const seconds = `${(run.durationMs / 1000).toFixed(1)} s`;
  switch (run.outcome) {
    case 'ok':
      return `${where}: exit 0 in ${seconds}`;
    case 'failed':
      return run.exitCode !== null ? `${where}: exit ${run.exitCode} in ${seconds}${continued(run)}` : `${where}: ${run.message}${continued(run)}`;
    case 'timed-out':
      return `${where}: ${run.message}${continued(run)}`;
    case 'error':
      return `${where}: ${run.message}${continued(run)}`;
  }
}

function continued(run: HookRun): string {
  return run.onError === 'Continue' && run.phase === 'pre' ? ' (on-error Continue: the backup went on)' : '';
}

/** The runs as report lines, one each. */
export function describeHookRuns(runs: readonly HookRun[]): string[] {
  return runs.map(describeHookRun);
}
