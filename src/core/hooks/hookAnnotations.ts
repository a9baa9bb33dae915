import { formatGoDuration, parseGoDuration } from './goDuration';

export type HookPhase = 'pre' | 'post';
export type HookErrorMode = 'Fail' | 'Continue';

/** Velero's default when a hook names no timeout (pkg/podexec). */
export const DEFAULT_HOOK_TIMEOUT_MS = 30_000;

/** One phase's hook as a pod's Velero annotations describe it, before the pod's containers are looked at. */
export interface AnnotatedHook {
  /** The annotation prefix it was read from: `pre.hook.backup.velero.io`, `post.…` or the legacy `hook.backup.velero.io`. */
  readonly prefix: string;
  /** Empty when the command annotation cannot be read; `problem` then says why. */
  readonly command: readonly string[];
  /** Undefined: the pod's first container. */
  readonly container?: string;
  readonly onError: HookErrorMode;
  /** Undefined: no time limit (Velero sets no timer for a negative timeout). */
  readonly timeoutMs?: number;
  /** Why the hook cannot run; it then counts as a failed hook, as in Velero. */
  readonly problem?: string;
  /** Values Velero would also ignore (a bad timeout or on-error), said so that the user can fix them. */
  readonly warnings: readonly string[];
}

/**
 * Reads a pod's backup hook for one phase the way Velero does (internal/hook/item_hook_handler.go): the
 * `<phase>.hook.backup.velero.io/*` annotations, and for `pre` only, the legacy unprefixed
 * `hook.backup.velero.io/*` ones when no phased command is set. Without a command annotation there is no hook.
 */
export function annotatedHook(annotations: Readonly<Record<string, string>> | undefined, phase: HookPhase): AnnotatedHook | undefined {
  const phased = hookFromPrefix(annotations ?? {}, `${phase}.hook.backup.velero.io`);
  if (phased || phase === 'post') return phased;
  return hookFromPrefix(annotations ?? {}, 'hook.backup.velero.io');
}

function hookFromPrefix(annotations: Readonly<Record<string, string>>, prefix: string): AnnotatedHook | undefined {
  const commandText = annotations[`${prefix}/command`];
  if (commandText === undefined || commandText === '') return undefined;
  const warnings: string[] = [];
  const parsed = parseCommand(commandText, `${prefix}/command`);
  const container = annotations[`${prefix}/container`] || undefined;

  const onErrorText = annotations[`${prefix}/on-error`] ?? '';
  // Velero compares exactly: anything but `Continue` (even `continue`) stops the backup.
  const onError: HookErrorMode = onErrorText === 'Continue' ? 'Continue' : 'Fail';
  if (onErrorText !== '' && onErrorText !== 'Fail' && onErrorText !== 'Continue') {
    warnings.push(`${prefix}/on-error is ${JSON.stringify(onErrorText)}, which is neither Fail nor Continue (case matters): Fail applies`);
  }

  let timeoutMs: number | undefined = DEFAULT_HOOK_TIMEOUT_MS;
  const timeoutText = annotations[`${prefix}/timeout`] ?? '';
  if (timeoutText !== '') {
    const ms = parseGoDuration(timeoutText);
    if (ms === undefined) {
      warnings.push(
        `${prefix}/timeout ${JSON.stringify(timeoutText)} is not a Go duration such as 30s or 1m30s (a bare number has no unit): ` +
          `the default ${formatGoDuration(DEFAULT_HOOK_TIMEOUT_MS)} applies`,
      );
    } else if (ms < 0) {
      timeoutMs = undefined;
      warnings.push(`${prefix}/timeout ${JSON.stringify(timeoutText)} is negative: the hook runs without a time limit, as in Velero`);
    } else if (ms > 0) {
      timeoutMs = ms;
    }
  }
  return { prefix, command: parsed.command, container, onError, timeoutMs, warnings, ...(parsed.problem ? { problem: parsed.problem } : {}) };
}

/**
 * Velero's parseStringToCommand: a value starting with `[` is a JSON array of strings, anything else one
 * program run without a shell. Velero runs a `[` value that is not such an array as a program of that name,
 * which can only fail in the container; saying why here fails it the same way, with a message one can act on.
 */
export function parseCommand(text: string, name: string): { command: readonly string[]; problem?: string } {
  if (!text.startsWith('[')) return { command: [text] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const problem = `${name} starts with "[" but is not valid JSON (${(e as Error).message}); write a JSON array of strings such as ["/bin/sh", "-c", "sync"]`;
    return { command: [], problem };
  }
  if (!Array.isArray(value) || !value.every((part) => typeof part === 'string')) {
    return { command: [], problem: `${name} must be a JSON array of strings such as ["/bin/sh", "-c", "sync"], got ${text}` };
  }
  if (value.length === 0) return { command: [], problem: `${name} is an empty JSON array: name the program to run, such as ["/bin/sync"]` };
  return { command: value as string[] };
}
