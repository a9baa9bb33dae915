import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { seedDemo } from '../sandbox/demoData';
import { SandboxCluster } from '../sandbox/sandboxCluster';

export interface DemoWorkspace {
  cluster: SandboxCluster;
  /** The folder VS Code opens; its .vscode/settings.json points the extension at the sandbox. */
  workspace: string;
  kubeconfig: string;
}

/** The sandbox with its demo volumes under `dir`, and a workspace whose settings use its kubeconfig. */
export async function startDemoWorkspace(dir: string): Promise<DemoWorkspace> {
  const cluster = await SandboxCluster.start({ dataDir: path.join(dir, 'cluster') });
  seedDemo(cluster);
  const workspace = path.join(dir, 'workspace');
  mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  const kubeconfig = path.join(dir, 'kubeconfig');
  cluster.writeKubeconfig(kubeconfig);
  writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'nkvm.kubeconfigPath': kubeconfig }));
  return { cluster, workspace, kubeconfig };
}
