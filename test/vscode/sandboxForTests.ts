import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { NkvmApi } from '../../src/extension';
import { seedDemo } from '../sandbox/demoData';
import { SandboxCluster } from '../sandbox/sandboxCluster';

export const EXTENSION_ID = 'nerdy-k8s.nerdy-k8s-volume-manager';

export interface ConnectedSandbox {
  cluster: SandboxCluster;
  api: NkvmApi;
  dir: string;
  stop(): Promise<void>;
}

/** Starts the sandbox in the extension host and points the extension's settings at it. */
export async function connectSandbox(): Promise<ConnectedSandbox> {
  const dir = mkdtempSync(join(tmpdir(), 'nkvm-exthost-'));
  const cluster = await SandboxCluster.start({ dataDir: join(dir, 'cluster') });
  seedDemo(cluster);
  const kubeconfig = join(dir, 'kubeconfig');
  cluster.writeKubeconfig(kubeconfig);
  const config = vscode.workspace.getConfiguration('nkvm');
  await config.update('kubeconfigPath', kubeconfig, vscode.ConfigurationTarget.Workspace);
  await config.update('backupDir', join(dir, 'backups'), vscode.ConfigurationTarget.Workspace);
  await config.update('metadataDbPath', join(dir, 'data', 'backups.db'), vscode.ConfigurationTarget.Workspace);
  const api = (await vscode.extensions.getExtension<NkvmApi>(EXTENSION_ID)!.activate()) as NkvmApi;
  return {
    cluster,
    api,
    dir,
    async stop() {
      for (const key of ['kubeconfigPath', 'backupDir', 'metadataDbPath']) await config.update(key, undefined, vscode.ConfigurationTarget.Workspace);
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
