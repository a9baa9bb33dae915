import { COMPRESSION_MODES, type CompressionMode } from '../backup/archiveCommand';
import { MAX_STREAMS, type StreamCount } from '../backup/streamPlan';
import { CONSISTENCY_MODES, type ConsistencyMode } from '../snapshot/consistencyMode';
import { SettingsError, type SettingProblem } from './settingsError';

/**
 * What goes into an archive, how the volume is read (a snapshot of one instant, or live) and how it is
 * compressed, after defaults, `nkvm.*` settings and `NKVM_*` variables.
 */
export interface ArchiveSettings {
  readonly compression: CompressionMode;
  /** gzip level 1 (fastest) to 9 (smallest). */
  readonly compressionLevel: number;
  /** Paths or globs relative to the volume root; empty: the whole volume. */
  readonly backupInclude: readonly string[];
  readonly backupExclude: readonly string[];
  readonly consistency: ConsistencyMode;
  /** Bound on a snapshot becoming ready and on its temporary claim being provisioned. */
  readonly snapshotTimeoutSeconds: number;
  /** The temporary claim's storage class; '' for the source claim's. */
  readonly snapshotStorageClass: string;
  /** `auto`: send only what changed since the volume's last complete backup when it can; `never`: always full. */
  readonly incremental: IncrementalPolicy;
  /** A full backup after this many incremental ones in a row. */
  readonly fullEvery: number;
  /** Exec streams per volume: `auto` (one for a small volume, up to four for a large one) or 1 to 8. */
  readonly streams: StreamCount;
}

export const INCREMENTAL_POLICIES = ['auto', 'never'] as const;
export type IncrementalPolicy = (typeof INCREMENTAL_POLICIES)[number];

export type ArchiveSettingKey =
  | 'compression'
  | 'compressionLevel'
  | 'backup.include'
  | 'backup.exclude'
  | 'backup.consistency'
  | 'backup.snapshotTimeoutSeconds'
  | 'backup.snapshotStorageClass'
  | 'backup.incremental'
  | 'backup.fullEvery'
  | 'backup.streams';

export type RawArchiveSettings = { readonly [K in keyof ArchiveSettings]?: unknown };

/**
 * `pod-gzip` by measurement (docs/benchmarks.md, backup section): on the benchmark machine it was the
 * fastest compressed mode and it sends the fewest bytes over the network; `local-gzip` pays off only
 * where this machine has idle cores and the link to the API server is faster than the pod's gzip.
 */
export const DEFAULT_ARCHIVE_SETTINGS: ArchiveSettings = {
  compression: 'pod-gzip',
  compressionLevel: 6,
  backupInclude: [],
  backupExclude: [],
  consistency: 'auto',
  snapshotTimeoutSeconds: 300,
  snapshotStorageClass: '',
  incremental: 'auto',
  fullEvery: 7,
  streams: 'auto',
};

/** The setting and the variable behind each value, as users type them. */
export const ARCHIVE_SETTING_NAMES = {
  compression: { setting: 'nkvm.compression', envVar: 'NKVM_COMPRESSION' },
  compressionLevel: { setting: 'nkvm.compressionLevel', envVar: 'NKVM_COMPRESSION_LEVEL' },
  backupInclude: { setting: 'nkvm.backup.include', envVar: 'NKVM_BACKUP_INCLUDE' },
  backupExclude: { setting: 'nkvm.backup.exclude', envVar: 'NKVM_BACKUP_EXCLUDE' },
  consistency: { setting: 'nkvm.backup.consistency', envVar: 'NKVM_BACKUP_CONSISTENCY' },
  snapshotTimeoutSeconds: { setting: 'nkvm.backup.snapshotTimeoutSeconds', envVar: 'NKVM_BACKUP_SNAPSHOT_TIMEOUT_SECONDS' },
  snapshotStorageClass: { setting: 'nkvm.backup.snapshotStorageClass', envVar: 'NKVM_BACKUP_SNAPSHOT_STORAGE_CLASS' },
  incremental: { setting: 'nkvm.backup.incremental', envVar: 'NKVM_BACKUP_INCREMENTAL' },
  fullEvery: { setting: 'nkvm.backup.fullEvery', envVar: 'NKVM_BACKUP_FULL_EVERY' },
  streams: { setting: 'nkvm.backup.streams', envVar: 'NKVM_BACKUP_STREAMS' },
} as const satisfies Record<keyof ArchiveSettings, { setting: string; envVar: string }>;

const problemKeys: Record<keyof ArchiveSettings, ArchiveSettingKey> = {
  compression: 'compression',
  compressionLevel: 'compressionLevel',
  backupInclude: 'backup.include',
  backupExclude: 'backup.exclude',
  consistency: 'backup.consistency',
  snapshotTimeoutSeconds: 'backup.snapshotTimeoutSeconds',
  snapshotStorageClass: 'backup.snapshotStorageClass',
  incremental: 'backup.incremental',
  fullEvery: 'backup.fullEvery',
  streams: 'backup.streams',
};

type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string };

/** Merges settings with their variables (the variable wins) and checks every value; all problems are reported at once. */
export function resolveArchiveSettings(raw: RawArchiveSettings, env: NodeJS.ProcessEnv): ArchiveSettings {
  const problems: SettingProblem[] = [];
  const take = <K extends keyof ArchiveSettings>(key: K, parse: (v: unknown, fromEnv: boolean) => Parsed<ArchiveSettings[K]>): ArchiveSettings[K] => {
    const { setting, envVar } = ARCHIVE_SETTING_NAMES[key];
    const envText = env[envVar];
    const useEnv = envText !== undefined && envText.trim() !== '';
    const value = raw[key];
    // VS Code shows a cleared setting as "" or []: both mean "not set".
    if (!useEnv && (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0))) return DEFAULT_ARCHIVE_SETTINGS[key];
    const parsed = parse(useEnv ? envText!.trim() : value, useEnv);
    if (parsed.ok) return parsed.value;
    const name = useEnv ? envVar : setting;
    problems.push({ key: problemKeys[key], name, source: useEnv ? 'env' : 'setting', message: `${name} must be ${parsed.expected}, got ${JSON.stringify(useEnv ? envText : value)}` });
    return DEFAULT_ARCHIVE_SETTINGS[key];
  };
  const settings: ArchiveSettings = {
    compression: take('compression', compressionMode),
    compressionLevel: take('compressionLevel', gzipLevel),
    backupInclude: take('backupInclude', volumePaths),
    backupExclude: take('backupExclude', volumePaths),
    consistency: take('consistency', consistencyMode),
    snapshotTimeoutSeconds: take('snapshotTimeoutSeconds', seconds),
    snapshotStorageClass: take('snapshotStorageClass', storageClassName),
    incremental: take('incremental', incrementalPolicy),
    fullEvery: take('fullEvery', incrementalRun),
    streams: take('streams', streamCount),
  };
  if (problems.length) throw new SettingsError(problems);
  return settings;
}

/**
 * Why a path cannot name something inside the volume, or undefined when it can. Paths are relative to
 * the volume root: an absolute path or `..` would point outside the mount (or nowhere, in the helper).
 */
export function volumePathProblem(path: string): string | undefined {
  if (path.trim() === '') return 'is empty';
  if (/[\0\n\r]/.test(path)) return 'holds a control character';
  if (path.startsWith('/')) return 'is absolute; paths are relative to the volume root';
  if (path.split('/').includes('..')) return 'climbs out with ..';
  if (normalizeVolumePath(path) === '') return 'names the volume root itself; leave the list empty to back up everything';
  return undefined;
}

/** `./logs/` and `logs` are the same path to tar: the form without `./` and trailing `/` is kept. */
export function normalizeVolumePath(path: string): string {
  return path.replace(/^(\.\/+)+/, '').replace(/\/+$/, '').replace(/^\.$/, '');
}

function compressionMode(value: unknown): Parsed<CompressionMode> {
  const expected = COMPRESSION_MODES.map((m) => `"${m}"`).join(', ').replace(/, ([^,]*)$/, ' or $1');
  return typeof value === 'string' && (COMPRESSION_MODES as readonly string[]).includes(value) ? { ok: true, value: value as CompressionMode } : { ok: false, expected };
}

function consistencyMode(value: unknown): Parsed<ConsistencyMode> {
  return typeof value === 'string' && (CONSISTENCY_MODES as readonly string[]).includes(value) ? { ok: true, value: value as ConsistencyMode } : { ok: false, expected: '"auto", "snapshot" or "live"' };
}

function incrementalPolicy(value: unknown): Parsed<IncrementalPolicy> {
  return typeof value === 'string' && (INCREMENTAL_POLICIES as readonly string[]).includes(value) ? { ok: true, value: value as IncrementalPolicy } : { ok: false, expected: '"auto" or "never"' };
}

/** 0 makes every backup full; more than 1,000 links would make a restore read a thousand archives. */
function incrementalRun(value: unknown): Parsed<number> {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  return Number.isInteger(n) && n >= 0 && n <= 1000 ? { ok: true, value: n } : { ok: false, expected: 'a whole number from 0 to 1000' };
}

/** `auto` or a whole number of streams from 1 to MAX_STREAMS. */
function streamCount(value: unknown): Parsed<StreamCount> {
  if (value === 'auto') return { ok: true, value };
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  return Number.isInteger(n) && n >= 1 && n <= MAX_STREAMS ? { ok: true, value: n } : { ok: false, expected: `"auto" or a whole number from 1 to ${MAX_STREAMS}` };
}

function seconds(value: unknown): Parsed<number> {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  return Number.isInteger(n) && n >= 5 && n <= 86_400 ? { ok: true, value: n } : { ok: false, expected: 'a whole number of seconds from 5 to 86400' };
}

/** A storage class name is a DNS subdomain. */
function storageClassName(value: unknown): Parsed<string> {
  return typeof value === 'string' && /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(value) ? { ok: true, value } : { ok: false, expected: 'a storage class name (lower-case letters, digits, - and .)' };
}

function gzipLevel(value: unknown): Parsed<number> {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : Number.NaN;
  return Number.isInteger(n) && n >= 1 && n <= 9 ? { ok: true, value: n } : { ok: false, expected: 'a whole number from 1 to 9' };
}

function volumePaths(value: unknown, fromEnv: boolean): Parsed<string[]> {
  const expected = fromEnv
    ? 'paths relative to the volume root, comma-separated or as a JSON array (no absolute paths, no ..)'
    : 'a list of paths relative to the volume root (no absolute paths, no ..)';
  let list: unknown = value;
  if (fromEnv && typeof value === 'string') {
    if (value.startsWith('[')) {
      try {
        list = JSON.parse(value);
      } catch {
        return { ok: false, expected };
      }
    } else {
      list = value.split(',').map((p) => p.trim()).filter(Boolean);
    }
  }
  if (!Array.isArray(list) || !list.every((p) => typeof p === 'string')) return { ok: false, expected };
  const bad = (list as string[]).map((p) => [p, volumePathProblem(p)] as const).filter(([, problem]) => problem);
  if (bad.length) return { ok: false, expected: `${expected}; ${bad.map(([p, problem]) => `${JSON.stringify(p)} ${problem}`).join('; ')}` };
  return { ok: true, value: [...new Set((list as string[]).map(normalizeVolumePath))] };
}
