import { parseGoDuration } from '../hooks/goDuration';
import type { HookErrorMode } from '../hooks/hookAnnotations';
import { SettingsError } from './settingsError';

/** One phase's hook for a claim from `nkvm.backup.hooks`, checked. */
export interface ClaimHookSetting {
  readonly command: readonly string[];
  /** Undefined: the pod's first container. */
  readonly container?: string;
  readonly onError: HookErrorMode;
  /** Undefined: Velero's default of 30 seconds. */
  readonly timeoutMs?: number;
}

/** The hooks configured for one claim; `pod` undefined means the first running pod that mounts it. */
export interface ClaimHooksSetting {
  readonly pre?: ClaimHookSetting;
  readonly post?: ClaimHookSetting;
  readonly pod?: string;
}

/** Keyed by `namespace/claim`. */
export type BackupHookSettings = Readonly<Record<string, ClaimHooksSetting>>;

export const BACKUP_HOOKS_SETTING = 'nkvm.backup.hooks';
export const BACKUP_HOOKS_ENV = 'NKVM_BACKUP_HOOKS';

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const EXAMPLE = '{"shop/data-orders-db-0": {"pre": {"command": ["/bin/sh", "-c", "psql -c CHECKPOINT"], "timeout": "1m"}, "post": {"command": ["/bin/true"]}}}';

/**
 * `nkvm.backup.hooks`, or `NKVM_BACKUP_HOOKS` (the same JSON) which wins, checked as a whole: every problem
 * is reported at once, naming the setting or variable and the claim, like the other settings.
 */
export function resolveBackupHookSettings(raw: unknown, env: NodeJS.ProcessEnv): BackupHookSettings {
  const envText = env[BACKUP_HOOKS_ENV];
  const useEnv = envText !== undefined && envText.trim() !== '';
  const name = useEnv ? BACKUP_HOOKS_ENV : BACKUP_HOOKS_SETTING;
  let value: unknown = raw;
  if (useEnv) {
    try {
      value = JSON.parse(envText!);
    } catch (e) {
      throw problem(name, true, `${name} must be JSON such as ${EXAMPLE}: ${(e as Error).message}`);
    }
  }
  if (value === undefined || value === null || value === '') return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw problem(name, useEnv, `${name} must be an object keyed by "namespace/claim", such as ${EXAMPLE}`);
  }

  const messages: string[] = [];
  const out: Record<string, ClaimHooksSetting> = {};
  for (const [key, entry] of Object.entries(value)) {
    const where = `${name}["${key}"]`;
    const [namespace, claim, extra] = key.split('/');
    if (extra !== undefined || !dns1123Label.test(namespace ?? '') || !dns1123Subdomain.test(claim ?? '')) {
      messages.push(`${where}: the key must be "namespace/claim", such as "shop/data-orders-db-0"`);
      continue;
    }
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      messages.push(`${where} must be an object with "pre", "post" and optionally "pod"`);
      continue;
    }
    const fields = entry as Record<string, unknown>;
    const unknown = Object.keys(fields).filter((k) => !['pre', 'post', 'pod'].includes(k));
    if (unknown.length) messages.push(`${where} has ${unknown.map((k) => `"${k}"`).join(', ')}; only "pre", "post" and "pod" are known`);
    if (fields.pod !== undefined && (typeof fields.pod !== 'string' || !dns1123Subdomain.test(fields.pod))) {
      messages.push(`${where}.pod must be a pod name, got ${JSON.stringify(fields.pod)}`);
    }
    const pre = fields.pre === undefined ? undefined : phaseHook(fields.pre, `${where}.pre`, messages);
    const post = fields.post === undefined ? undefined : phaseHook(fields.post, `${where}.post`, messages);
    if (fields.pre === undefined && fields.post === undefined) messages.push(`${where} has neither "pre" nor "post"`);
    out[key] = { ...(pre ? { pre } : {}), ...(post ? { post } : {}), ...(typeof fields.pod === 'string' ? { pod: fields.pod } : {}) };
  }
  if (messages.length) throw problem(name, useEnv, messages.join('; '));
  return out;
}

function phaseHook(value: unknown, where: string, messages: string[]): ClaimHookSetting | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    messages.push(`${where} must be an object such as {"command": ["/bin/sync"], "onError": "Fail", "timeout": "30s"}`);
    return undefined;
  }
  const fields = value as Record<string, unknown>;
  const before = messages.length;
  const unknown = Object.keys(fields).filter((k) => !['command', 'container', 'onError', 'timeout'].includes(k));
  if (unknown.length) messages.push(`${where} has ${unknown.map((k) => `"${k}"`).join(', ')}; only "command", "container", "onError" and "timeout" are known`);
  const command = fields.command;
  if (!Array.isArray(command) || command.length === 0 || !command.every((p) => typeof p === 'string') || command[0] === '') {
    messages.push(`${where}.command must be a non-empty array of strings, run without a shell, such as ["/bin/sh", "-c", "sync"]`);
  }
  if (fields.container !== undefined && (typeof fields.container !== 'string' || !dns1123Label.test(fields.container))) {
    messages.push(`${where}.container must be a container name, got ${JSON.stringify(fields.container)}`);
  }
  if (fields.onError !== undefined && fields.onError !== 'Fail' && fields.onError !== 'Continue') {
    messages.push(`${where}.onError must be "Fail" or "Continue", got ${JSON.stringify(fields.onError)}`);
  }
  let timeoutMs: number | undefined;
  if (fields.timeout !== undefined) {
    timeoutMs = typeof fields.timeout === 'string' ? parseGoDuration(fields.timeout) : undefined;
    if (timeoutMs === undefined || timeoutMs <= 0) {
      messages.push(`${where}.timeout must be a positive Go duration such as "30s" or "1m30s", got ${JSON.stringify(fields.timeout)}`);
    }
  }
  if (messages.length > before) return undefined;
  return {
    command: command as string[],
    onError: (fields.onError as HookErrorMode | undefined) ?? 'Fail',
    ...(typeof fields.container === 'string' ? { container: fields.container } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
  };
}

function problem(name: string, fromEnv: boolean, message: string): SettingsError {
  return new SettingsError([{ key: 'backup.hooks', name, source: fromEnv ? 'env' : 'setting', message }]);
}
