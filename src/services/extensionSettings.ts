import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { resolveArchiveSettings, type ArchiveSettings } from '../core/config/archiveSettings';
import { resolveBackupHookSettings, type BackupHookSettings } from '../core/config/backupHookSettings';
import { detectInCluster } from '../core/config/detectInCluster';
import { createHelperOwner, type HelperOwner } from '../core/backup/helperOwner';
import { resolveHelperSettings, type HelperPodSettings } from '../core/config/helperSettings';
import type { RawNkvmSettings, ResolvedSettings } from '../core/config/nkvmSettings';
import { resolveSettings } from '../core/config/resolveSettings';

/** The `nkvm.*` settings, read in one place; `onDidChange` fires when any of them changes. */
export class ExtensionSettings implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly listener: vscode.Disposable;
  /** This window, as the owner of the helper pods it starts (their leases name it). */
  private readonly helperOwner: HelperOwner = createHelperOwner('vscode');

  constructor(private readonly fallbackDir: string, private readonly log?: vscode.LogOutputChannel) {
    this.listener = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('nkvm')) this.changed.fire();
    });
  }

  /** Where relative paths and the default `./backups` live: the first workspace folder, else the extension's storage. */
  baseDir(): string {
    return this.baseFolder()?.fsPath ?? this.fallbackDir;
  }

  private baseFolder(): vscode.Uri | undefined {
    return vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri;
  }

  /**
   * Settings are resource-scoped and read for the first local folder, so a project's
   * .vscode/settings.json keeps applying when the window becomes multi-root (e.g. a backup opened as a folder).
   */
  private config(section = 'nkvm'): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(section, this.baseFolder());
  }

  /** Settings merged with NKVM_* variables and checked; throws a SettingsError naming each bad value. */
  resolve(): ResolvedSettings {
    const c = this.config();
    const raw: RawNkvmSettings = {
      backupDir: c.get<string>('backupDir'),
      metadataDbPath: c.get<string>('metadataDbPath'),
      helperImage: c.get<string>('helperImage'),
      helperPodTimeoutSeconds: c.get<number>('helperPodTimeoutSeconds'),
      discoveryTimeoutSeconds: c.get<number>('discoveryTimeoutSeconds'),
      maxNamespaceScan: c.get<number>('maxNamespaceScan'),
      retentionKeepLast: c.get<number>('retention.keepLast'),
      retentionMaxAgeDays: c.get<number>('retention.maxAgeDays'),
    };
    return resolveSettings({ raw, env: process.env, baseDir: this.baseDir(), inCluster: detectInCluster(process.env, existsSync) });
  }

  /** `nkvm.helper.*` merged with their NKVM_HELPER_* variables; throws a SettingsError naming each bad value. */
  helperPodSettings(): { helperPod: HelperPodSettings; helperOwner: HelperOwner; onHelperProblem: (message: string) => void } {
    const c = this.config('nkvm.helper');
    const keys = ['imagePullSecrets', 'resources', 'tolerations', 'nodeSelector', 'runAsRoot', 'runAsUser', 'leaseSeconds', 'deadlineSeconds'] as const;
    const raw = Object.fromEntries(keys.map((k) => [k, c.get(k)]));
    return { helperPod: resolveHelperSettings(raw, process.env), helperOwner: this.helperOwner, onHelperProblem: (m) => this.log?.warn(`[helpers] ${m}`) };
  }

  /** Compression and include/exclude paths merged with their NKVM_* variables; throws a SettingsError naming each bad value. */
  archiveSettings(): ArchiveSettings {
    const c = this.config();
    return resolveArchiveSettings(
      {
        compression: c.get('compression'),
        compressionLevel: c.get('compressionLevel'),
        backupInclude: c.get('backup.include'),
        backupExclude: c.get('backup.exclude'),
        consistency: c.get('backup.consistency'),
        snapshotTimeoutSeconds: c.get('backup.snapshotTimeoutSeconds'),
        snapshotStorageClass: c.get('backup.snapshotStorageClass'),
        incremental: c.get('backup.incremental'),
        fullEvery: c.get('backup.fullEvery'),
        streams: c.get('backup.streams'),
      },
      process.env,
    );
  }

  /** `nkvm.backup.hooks`, or NKVM_BACKUP_HOOKS; throws a SettingsError naming each bad value. */
  backupHookSettings(): BackupHookSettings {
    return resolveBackupHookSettings(this.config().get('backup.hooks'), process.env);
  }

  kubeconfigPaths(): string[] {
    const value = this.config().get<string | string[]>('kubeconfigPath');
    return (Array.isArray(value) ? value : [value ?? '']).filter((p): p is string => typeof p === 'string' && p.trim() !== '');
  }

  /** `auto`: the pod's service account is a cluster (and the default one) when running in a pod. */
  inClusterMode(): 'auto' | 'never' {
    return this.config().get<string>('inClusterServiceAccount') === 'never' ? 'never' : 'auto';
  }

  concurrency(): number {
    const n = this.config().get<number>('backupConcurrency') ?? 1;
    return Math.min(16, Math.max(1, Math.floor(n)));
  }

  dispose(): void {
    this.listener.dispose();
    this.changed.dispose();
  }
}
