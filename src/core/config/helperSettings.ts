import type { V1Toleration } from '@kubernetes/client-node';
import type { HelperResources } from '../backup/helperPodSpec';
import { SettingsError, type SettingProblem } from './settingsError';

/** How the helper pod is placed and run, after defaults, `nkvm.helper.*` settings and `NKVM_HELPER_*` variables. */
export interface HelperPodSettings {
  /** Secrets in the volume's namespace that let nodes pull the helper image. */
  readonly imagePullSecrets: readonly string[];
  /** Overrides of the helper container's requests and limits. */
  readonly resources: HelperResources;
  /** Added to the tolerations copied from the pod that mounts the volume. */
  readonly tolerations: readonly V1Toleration[];
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** Namespaces where the helper runs as root; `*` means every namespace. */
  readonly runAsRoot: readonly string[];
  /** The user (and group) the helper runs as, per `namespace/claim` or per `namespace`, when no pod that mounts the claim names one. */
  readonly runAsUser: Readonly<Record<string, HelperUser>>;
  /** A helper whose owner stops renewing its lease for this long ends itself and frees its volume. */
  readonly leaseSeconds: number;
  /** activeDeadlineSeconds: the cluster stops a helper this old even while its lease is renewed. */
  readonly deadlineSeconds: number;
}

/** A non-root user, and its group when given. */
export interface HelperUser {
  readonly uid: number;
  readonly gid?: number;
}

export type HelperSettingKey = `helper.${keyof HelperPodSettings}`;

/** Values as VS Code or the command line hand them over; anything may be wrong, so nothing is trusted. */
export type RawHelperSettings = { readonly [K in keyof HelperPodSettings]?: unknown };

/** The variable that overrides each setting, and the text form it takes. */
export const HELPER_SETTING_ENV = {
  imagePullSecrets: 'NKVM_HELPER_IMAGE_PULL_SECRETS',
  resources: 'NKVM_HELPER_RESOURCES',
  tolerations: 'NKVM_HELPER_TOLERATIONS',
  nodeSelector: 'NKVM_HELPER_NODE_SELECTOR',
  runAsRoot: 'NKVM_HELPER_RUN_AS_ROOT',
  runAsUser: 'NKVM_HELPER_RUN_AS_USER',
  leaseSeconds: 'NKVM_HELPER_LEASE_SECONDS',
  deadlineSeconds: 'NKVM_HELPER_DEADLINE_SECONDS',
} as const satisfies Record<keyof HelperPodSettings, string>;

/** Bounds of the lease and deadline: a lease shorter than a few renewals would end helpers that are working. */
export const HELPER_LEASE_RANGE = { min: 5, max: 3600 } as const;
export const HELPER_DEADLINE_RANGE = { min: 600, max: 30 * 86400 } as const;

export const DEFAULT_HELPER_POD_SETTINGS: HelperPodSettings = {
  imagePullSecrets: [],
  resources: {},
  tolerations: [],
  nodeSelector: {},
  runAsRoot: [],
  runAsUser: {},
  leaseSeconds: 120,
  deadlineSeconds: 86400,
};

type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string };

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// A label key: optional DNS prefix, then a name of at most 63 characters.
const labelKey = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const labelValue = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const quantity = /^(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$/;

/**
 * Merges the `nkvm.helper.*` settings with their `NKVM_HELPER_*` variables (the variable wins) and
 * checks each value; every problem is reported at once, like the other settings.
 */
export function resolveHelperSettings(raw: RawHelperSettings, env: NodeJS.ProcessEnv): HelperPodSettings {
  const problems: SettingProblem[] = [];
  const take = <K extends keyof HelperPodSettings>(key: K, fromSetting: (v: unknown) => Parsed<HelperPodSettings[K]>, fromEnv: (text: string) => Parsed<HelperPodSettings[K]>): HelperPodSettings[K] => {
    const envName = HELPER_SETTING_ENV[key];
    const envText = env[envName];
    const useEnv = envText !== undefined && envText.trim() !== '';
    const value = raw[key];
    if (!useEnv && (value === undefined || value === null || value === '')) return DEFAULT_HELPER_POD_SETTINGS[key];
    const parsed = useEnv ? fromEnv(envText!.trim()) : fromSetting(value);
    if (parsed.ok) return parsed.value;
    const name = useEnv ? envName : `nkvm.helper.${key}`;
    problems.push({ key: `helper.${key}`, name, source: useEnv ? 'env' : 'setting', message: `${name} must be ${parsed.expected}, got ${describe(useEnv ? envText! : value)}` });
    return DEFAULT_HELPER_POD_SETTINGS[key];
  };

  const settings: HelperPodSettings = {
    imagePullSecrets: take('imagePullSecrets', (v) => nameList(v, dns1123Subdomain, 'a list of Secret names (lowercase RFC 1123 subdomains)', false), (t) => nameList(splitList(t), dns1123Subdomain, 'comma-separated Secret names (lowercase RFC 1123 subdomains)', false)),
    resources: take('resources', resources, (t) => resources(keyValues(t))),
    tolerations: take('tolerations', tolerations, (t) => {
      try {
        return tolerations(JSON.parse(t));
      } catch {
        return { ok: false, expected: 'a JSON array of tolerations such as [{"key":"dedicated","operator":"Equal","value":"backup","effect":"NoSchedule"}]' };
      }
    }),
    nodeSelector: take('nodeSelector', nodeSelector, (t) => nodeSelector(keyValues(t))),
    runAsRoot: take('runAsRoot', (v) => nameList(v, dns1123Label, 'a list of namespace names, or ["*"] for every namespace', true), (t) => nameList(splitList(t), dns1123Label, 'comma-separated namespace names, or * for every namespace', true)),
    runAsUser: take('runAsUser', runAsUsers, (t) => runAsUsers(keyValues(t))),
    leaseSeconds: take('leaseSeconds', (v) => wholeSeconds(v, HELPER_LEASE_RANGE), (t) => wholeSeconds(t, HELPER_LEASE_RANGE)),
    deadlineSeconds: take('deadlineSeconds', (v) => wholeSeconds(v, HELPER_DEADLINE_RANGE), (t) => wholeSeconds(t, HELPER_DEADLINE_RANGE)),
  };
  if (problems.length) throw new SettingsError(problems);
  return settings;
}

/** True when the helper should run as root in `namespace`: the per-backup choice, else the setting. */
export function helperRunsAsRoot(settings: Pick<HelperPodSettings, 'runAsRoot'>, namespace: string, perBackup?: boolean): boolean {
  if (perBackup !== undefined) return perBackup;
  return settings.runAsRoot.includes('*') || settings.runAsRoot.includes(namespace);
}

/** The user configured for a claim: `namespace/claim` first, then `namespace`. */
export function configuredHelperUser(settings: Pick<HelperPodSettings, 'runAsUser'>, namespace: string, pvc: string): HelperUser | undefined {
  return settings.runAsUser[`${namespace}/${pvc}`] ?? settings.runAsUser[namespace];
}

function runAsUsers(value: unknown): Parsed<Record<string, HelperUser>> {
  const expected =
    'non-root users per claim or namespace, such as {"shop/data-orders-db-0": "999:999", "team-a": "1000"} (NKVM_HELPER_RUN_AS_USER: shop/data-orders-db-0=999:999,team-a=1000); uid and gid from 1 to 2147483647, root is nkvm.helper.runAsRoot';
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, expected };
  const out: Record<string, HelperUser> = {};
  for (const [key, text] of Object.entries(value)) {
    const [namespace, pvc, extra] = key.split('/');
    if (extra !== undefined || !dns1123Label.test(namespace ?? '') || (pvc !== undefined && !dns1123Subdomain.test(pvc))) return { ok: false, expected };
    const m = typeof text === 'string' || typeof text === 'number' ? /^\s*(\d+)(?::(\d+))?\s*$/.exec(String(text)) : null;
    const ids = m ? [Number(m[1]), ...(m[2] !== undefined ? [Number(m[2])] : [])] : [];
    if (!m || ids.some((id) => id < 1 || id > 2147483647)) return { ok: false, expected };
    out[key] = { uid: ids[0]!, ...(ids[1] !== undefined ? { gid: ids[1] } : {}) };
  }
  return { ok: true, value: out };
}

function wholeSeconds(value: unknown, range: { min: number; max: number }): Parsed<number> {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  return Number.isInteger(n) && n >= range.min && n <= range.max ? { ok: true, value: n } : { ok: false, expected: `a whole number of seconds from ${range.min} to ${range.max}` };
}

function splitList(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

/** `requests.cpu=100m,limits.memory=512Mi` or `a=b,c=d` as an object, or undefined when malformed. */
function keyValues(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0) return undefined;
    out[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return out;
}

function nameList(value: unknown, pattern: RegExp, expected: string, allowStar: boolean): Parsed<string[]> {
  const list = typeof value === 'string' ? splitList(value) : value;
  if (!Array.isArray(list) || !list.every((n) => typeof n === 'string' && n.length <= 253 && (pattern.test(n) || (allowStar && n === '*')))) return { ok: false, expected };
  return { ok: true, value: [...new Set(list as string[])] };
}

function resources(value: unknown): Parsed<HelperResources> {
  const expected = 'requests and limits of cpu and memory as Kubernetes quantities, such as {"requests":{"cpu":"100m","memory":"64Mi"},"limits":{"memory":"512Mi"}} (NKVM_HELPER_RESOURCES: requests.cpu=100m,limits.memory=512Mi), with each request at most its limit';
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, expected };
  // The variable's flat form `requests.cpu` and the setting's nested form end up the same.
  const flat: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k2, v2] of Object.entries(v)) flat[`${k}.${k2}`] = v2;
    else flat[k] = v;
  }
  const out: { requests?: Record<string, string>; limits?: Record<string, string> } = {};
  for (const [k, v] of Object.entries(flat)) {
    const m = /^(requests|limits)\.(cpu|memory)$/.exec(k);
    if (!m || typeof v !== 'string' || !quantity.test(v)) return { ok: false, expected };
    (out[m[1] as 'requests' | 'limits'] ??= {})[m[2]] = v;
  }
  for (const r of ['cpu', 'memory']) {
    const request = out.requests?.[r];
    const limit = out.limits?.[r];
    // The API server refuses a pod whose request exceeds its limit; say so before a backup is tried.
    if (request && limit && quantityValue(request) > quantityValue(limit)) return { ok: false, expected };
  }
  return { ok: true, value: out as HelperResources };
}

function tolerations(value: unknown): Parsed<V1Toleration[]> {
  const expected = 'a list of tolerations, each with "key", "operator" (Equal or Exists), "value" and "effect" (NoSchedule, PreferNoSchedule or NoExecute)';
  if (!Array.isArray(value)) return { ok: false, expected };
  const allowedKeys = new Set(['key', 'operator', 'value', 'effect', 'tolerationSeconds']);
  for (const t of value) {
    if (!t || typeof t !== 'object' || Array.isArray(t)) return { ok: false, expected };
    const tol = t as Record<string, unknown>;
    if (Object.keys(tol).some((k) => !allowedKeys.has(k))) return { ok: false, expected };
    const operator = tol.operator ?? 'Equal';
    if (operator !== 'Equal' && operator !== 'Exists') return { ok: false, expected };
    if (tol.key !== undefined && (typeof tol.key !== 'string' || (tol.key !== '' && !labelKey.test(tol.key)))) return { ok: false, expected };
    if (tol.value !== undefined && (typeof tol.value !== 'string' || operator === 'Exists')) return { ok: false, expected };
    if (!tol.key && operator !== 'Exists') return { ok: false, expected };
    if (tol.effect !== undefined && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(tol.effect as string)) return { ok: false, expected };
    if (tol.tolerationSeconds !== undefined && (!Number.isInteger(tol.tolerationSeconds) || tol.effect !== 'NoExecute')) return { ok: false, expected };
  }
  return { ok: true, value: value as V1Toleration[] };
}

function nodeSelector(value: unknown): Parsed<Record<string, string>> {
  const expected = 'node labels to match, such as {"kubernetes.io/os":"linux"} (NKVM_HELPER_NODE_SELECTOR: kubernetes.io/os=linux,disk=ssd)';
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, expected };
  for (const [k, v] of Object.entries(value)) if (!labelKey.test(k) || typeof v !== 'string' || !labelValue.test(v)) return { ok: false, expected };
  return { ok: true, value: { ...(value as Record<string, string>) } };
}

const suffixes: Record<string, number> = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };

/** The number a Kubernetes quantity stands for (`500m` is 0.5, `2Gi` is 2 ** 31); the quantity must be valid. */
export function quantityValue(q: string): number {
  const m = quantity.exec(q)!;
  return Number(m[1]) * (m[3] ? suffixes[m[3]] : 1);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}
