import * as path from 'node:path';
import {
  IN_CLUSTER_PATH_DEFAULTS,
  SETTING_SPECS,
  STANDALONE_PATH_DEFAULTS,
  settingId,
  type NkvmSettings,
  type RawNkvmSettings,
  type ResolvedSettings,
  type SettingKey,
  type SettingOrigin,
  type WholeNumberRange,
} from './nkvmSettings';
import { SettingsError, type SettingProblem } from './settingsError';

export interface ResolveSettingsInput {
  /** `nkvm.*` settings from VS Code, or the command line's flags. */
  readonly raw: RawNkvmSettings;
  readonly env: NodeJS.ProcessEnv;
  /** Absolute folder that relative paths resolve against: the workspace folder or the cwd. */
  readonly baseDir: string;
  readonly inCluster: boolean;
  /** How a raw value is named in messages; the command line passes its flag names. */
  readonly rawName?: (key: SettingKey) => string;
}

type Candidate = { readonly text: string | number; readonly name: string; readonly source: 'env' | 'setting' };
type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly expected: string };

/**
 * Merges defaults, settings and environment variables (in rising precedence) and checks every
 * value. Pure: the caller supplies the environment, the base folder and whether we run in a pod.
 */
export function resolveSettings(input: ResolveSettingsInput): ResolvedSettings {
  const { raw, env, baseDir, inCluster } = input;
  if (!path.isAbsolute(baseDir)) {
    // Resolving against process.cwd() here would make the result depend on hidden state.
    throw new TypeError(`baseDir must be an absolute path, got "${baseDir}"`);
  }
  const rawName = input.rawName ?? settingId;
  const problems: SettingProblem[] = [];
  const origins: Partial<Record<SettingKey, SettingOrigin>> = {};
  const values: Partial<Record<SettingKey, string | number>> = {};
  const pathDefaults = inCluster ? IN_CLUSTER_PATH_DEFAULTS : STANDALONE_PATH_DEFAULTS;

  for (const key of Object.keys(SETTING_SPECS) as SettingKey[]) {
    const spec = SETTING_SPECS[key];
    const fromSetting = presentValue(raw[key]);
    const fromEnv = presentValue(env[spec.envVar]);
    const candidate: Candidate | undefined =
      fromEnv !== undefined
        ? { text: fromEnv, name: spec.envVar, source: 'env' }
        : fromSetting !== undefined
          ? { text: fromSetting, name: rawName(key), source: 'setting' }
          : undefined;

    if (candidate === undefined) {
      origins[key] = { source: 'default' };
      values[key] =
        spec.kind === 'path' ? path.resolve(baseDir, pathDefaults[key as keyof typeof pathDefaults]) : spec.default;
      continue;
    }

    const parsed: Parsed<string | number> =
      spec.kind === 'path'
        ? parsePath(candidate.text, baseDir, env)
        : spec.kind === 'image'
          ? parseImage(candidate.text)
          : parseWholeNumber(candidate.text, spec.range);
    if (!parsed.ok) {
      problems.push({
        key,
        name: candidate.name,
        source: candidate.source,
        message: `${candidate.name} must be ${parsed.expected}, got ${describeValue(candidate.text)}`,
      });
      continue;
    }
    values[key] = parsed.value;
    origins[key] =
      candidate.source === 'env'
        ? fromSetting !== undefined
          ? { source: 'env', name: candidate.name, overridesSetting: rawName(key) }
          : { source: 'env', name: candidate.name }
        : { source: 'setting', name: candidate.name };
  }

  if (problems.length > 0) {
    throw new SettingsError(problems);
  }
  return {
    settings: values as unknown as NkvmSettings,
    origins: origins as Record<SettingKey, SettingOrigin>,
  };
}

/** Empty or blank values count as unset: VS Code shows a cleared setting as "", shells export "". */
function presentValue(value: string | number | null | undefined): string | number | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  return typeof value === 'string' && value.trim() === '' ? undefined : value;
}

function parsePath(value: string | number, baseDir: string, env: NodeJS.ProcessEnv): Parsed<string> {
  const expected = 'a folder or file path';
  if (typeof value !== 'string' || value.includes('\0')) {
    return { ok: false, expected };
  }
  let text = value.trim();
  if (text === '~' || text.startsWith('~/') || text.startsWith('~\\')) {
    // Users type `~/backups` in settings; Node does not expand it and would create a folder named "~".
    const home = env.HOME ?? env.USERPROFILE;
    if (home === undefined || home === '') {
      return { ok: false, expected: 'a path that does not start with "~" when HOME is not set' };
    }
    text = path.join(home, text.slice(1));
  }
  return { ok: true, value: path.resolve(baseDir, text) };
}

function parseImage(value: string | number): Parsed<string> {
  const text = String(value).trim();
  if (typeof value !== 'string' || /\s/.test(text)) {
    return { ok: false, expected: 'a container image reference without whitespace, such as "alpine:3.20"' };
  }
  return { ok: true, value: text };
}

function parseWholeNumber(value: string | number, range: WholeNumberRange): Parsed<number> {
  const expected = `a whole number from ${range.min} to ${range.max}`;
  const number =
    typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number.parseInt(value, 10) : Number.NaN;
  if (!Number.isInteger(number) || number < range.min || number > range.max) {
    return { ok: false, expected };
  }
  return { ok: true, value: number };
}

function describeValue(value: string | number): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
