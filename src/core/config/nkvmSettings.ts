/** Settings after defaults, `nkvm.*` settings and `NKVM_*` variables have been merged and checked. */
export interface NkvmSettings {
  /** Absolute folder that receives the `.tar.gz` archives. */
  readonly backupDir: string;
  /** Absolute path of the SQLite history file. */
  readonly metadataDbPath: string;
  /** Image of the helper pod that mounts the volume and runs `tar`. */
  readonly helperImage: string;
  readonly helperPodTimeoutSeconds: number;
  readonly discoveryTimeoutSeconds: number;
  readonly maxNamespaceScan: number;
  /** Archives kept per volume by retention; 0 keeps all. */
  readonly retentionKeepLast: number;
  /** Archives older than this many days are pruned; 0 never prunes by age. */
  readonly retentionMaxAgeDays: number;
}

export type SettingKey = keyof NkvmSettings;

/**
 * Values as they arrive from VS Code (`nkvm.*`) or from command line flags. Numbers may come as
 * strings from flags; empty strings mean "not set" because that is how VS Code shows a cleared
 * string setting.
 */
export type RawNkvmSettings = {
  readonly [K in SettingKey]?: NkvmSettings[K] extends number ? number | string : string;
};

export type SettingSource = 'default' | 'setting' | 'env';

/** Where one value came from, so the UI can say "NKVM_BACKUP_DIR overrides nkvm.backupDir". */
export type SettingOrigin =
  | { readonly source: 'default' }
  | { readonly source: 'setting'; readonly name: string }
  | {
      readonly source: 'env';
      readonly name: string;
      /** Set when a `nkvm.*` setting was also given and is ignored because of the variable. */
      readonly overridesSetting?: string;
    };

export type SettingOrigins = { readonly [K in SettingKey]: SettingOrigin };

export interface ResolvedSettings {
  readonly settings: NkvmSettings;
  readonly origins: SettingOrigins;
}

export interface WholeNumberRange {
  readonly min: number;
  readonly max: number;
}

/** `setting` names a VS Code setting that is not `nkvm.<key>`, such as `nkvm.retention.keepLast`. */
export type SettingSpec =
  | { readonly envVar: string; readonly kind: 'path'; readonly setting?: string }
  | { readonly envVar: string; readonly kind: 'image'; readonly default: string; readonly setting?: string }
  | {
      readonly envVar: string;
      readonly kind: 'wholeNumber';
      readonly default: number;
      readonly range: WholeNumberRange;
      readonly setting?: string;
    };

/** Names and limits of every setting in one table, so messages, docs and code cannot drift. */
export const SETTING_SPECS = {
  backupDir: { envVar: 'NKVM_BACKUP_DIR', kind: 'path' },
  metadataDbPath: { envVar: 'NKVM_METADATA_DB_PATH', kind: 'path' },
  helperImage: { envVar: 'NKVM_HELPER_IMAGE', kind: 'image', default: 'alpine:3.20' },
  helperPodTimeoutSeconds: {
    envVar: 'NKVM_HELPER_POD_TIMEOUT_SECONDS',
    kind: 'wholeNumber',
    default: 120,
    range: { min: 10, max: 3600 },
  },
  discoveryTimeoutSeconds: {
    envVar: 'NKVM_DISCOVERY_TIMEOUT_SECONDS',
    kind: 'wholeNumber',
    default: 20,
    range: { min: 1, max: 600 },
  },
  maxNamespaceScan: {
    envVar: 'NKVM_MAX_NAMESPACE_SCAN',
    kind: 'wholeNumber',
    default: 100,
    range: { min: 1, max: 10000 },
  },
  retentionKeepLast: {
    envVar: 'NKVM_RETENTION_KEEP_LAST',
    kind: 'wholeNumber',
    default: 0,
    range: { min: 0, max: 10000 },
    setting: 'nkvm.retention.keepLast',
  },
  retentionMaxAgeDays: {
    envVar: 'NKVM_RETENTION_MAX_AGE_DAYS',
    kind: 'wholeNumber',
    default: 0,
    range: { min: 0, max: 36500 },
    setting: 'nkvm.retention.maxAgeDays',
  },
} as const satisfies Record<SettingKey, SettingSpec>;

/** Path defaults mirror the runbook: workspace-relative standalone, `/var/lib/nkvm` in a pod. */
export const STANDALONE_PATH_DEFAULTS = {
  backupDir: './backups',
  metadataDbPath: './data/backups.db',
} as const;

export const IN_CLUSTER_PATH_DEFAULTS = {
  backupDir: '/var/lib/nkvm/backups',
  metadataDbPath: '/var/lib/nkvm/data/backups.db',
} as const;

/** The VS Code setting id for a key, e.g. `nkvm.backupDir`. */
export function settingId(key: SettingKey): string {
  const spec: SettingSpec = SETTING_SPECS[key];
  return spec.setting ?? `nkvm.${key}`;
}
