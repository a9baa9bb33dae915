import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import { detectInCluster } from '../core/config/detectInCluster';
import type { RawNkvmSettings, ResolvedSettings } from '../core/config/nkvmSettings';
import { resolveSettings } from '../core/config/resolveSettings';

/** The `nkvm.*` settings, read in one place; `onDidChange` fires when any of them changes. */
export class ExtensionSettings implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly listener: vscode.Disposable;

  constructor(private readonly fallbackDir: string) {
    this.listener = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('nkvm')) this.changed.fire();
    });
  }

  /** Where relative paths and the default `./backups` live: the first workspace folder, else the extension's storage. */
  baseDir(): string {
    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
    return folder?.uri.fsPath ?? this.fallbackDir;
  }

  /** Settings merged with NKVM_* variables and checked; throws a SettingsError naming each bad value. */
  resolve(): ResolvedSettings {
    const c = vscode.workspace.getConfiguration('nkvm');
    const raw: RawNkvmSettings = {
      backupDir: c.get<string>('backupDir'),
      metadataDbPath: c.get<string>('metadataDbPath'),
      helperImage: c.get<string>('helperImage'),
      helperPodTimeoutSeconds: c.get<number>('helperPodTimeoutSeconds'),
      discoveryTimeoutSeconds: c.get<number>('discoveryTimeoutSeconds'),
      maxNamespaceScan: c.get<number>('maxNamespaceScan'),
    };
    return resolveSettings({ raw, env: process.env, baseDir: this.baseDir(), inCluster: detectInCluster(process.env, existsSync) });
  }

  kubeconfigPaths(): string[] {
    const value = vscode.workspace.getConfiguration('nkvm').get<string | string[]>('kubeconfigPath');
    return (Array.isArray(value) ? value : [value ?? '']).filter((p): p is string => typeof p === 'string' && p.trim() !== '');
  }

  /** `auto`: the pod's service account is a cluster (and the default one) when running in a pod. */
  inClusterMode(): 'auto' | 'never' {
    return vscode.workspace.getConfiguration('nkvm').get<string>('inClusterServiceAccount') === 'never' ? 'never' : 'auto';
  }

  concurrency(): number {
    const n = vscode.workspace.getConfiguration('nkvm').get<number>('backupConcurrency') ?? 1;
    return Math.min(16, Math.max(1, Math.floor(n)));
  }

  dispose(): void {
    this.listener.dispose();
    this.changed.dispose();
  }
}
