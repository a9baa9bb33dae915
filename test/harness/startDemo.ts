// `npm start`: the sandbox cluster with its demo volumes, and a real VS Code with this extension
// connected to it: a desktop `code` when installed, otherwise VS Code in the browser (code-server).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { seedDemo } from '../sandbox/demoData';
import { SandboxCluster } from '../sandbox/sandboxCluster';
import { startCodeServer } from './codeServer';
import { ensureCodeServer } from './codeServerInstall';

const repoRoot = path.resolve(__dirname, '../..');
const demoDir = path.join(repoRoot, '.vscode-test', 'demo');

function desktopCode(): string | undefined {
  if (process.env.NKVM_DEMO_BROWSER === '1') return undefined;
  const found = spawnSync('sh', ['-c', 'command -v code'], { encoding: 'utf8' });
  const code = found.stdout.trim();
  // Inside a VS Code terminal `code` is the remote CLI of that window, which is fine to use as well.
  return found.status === 0 && code ? code : undefined;
}

async function main(): Promise<void> {
  const workspace = path.join(demoDir, 'workspace');
  mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  const cluster = await SandboxCluster.start({ dataDir: path.join(demoDir, 'cluster') });
  seedDemo(cluster);
  const kubeconfig = path.join(demoDir, 'kubeconfig');
  cluster.writeKubeconfig(kubeconfig);
  // Backups and the history stay in the demo workspace, so they survive a restart.
  writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'nkvm.kubeconfigPath': kubeconfig }, null, 2) + '\n');
  console.log(`Sandbox cluster ready at ${cluster.url} (kubeconfig ${kubeconfig})`);

  const stops: (() => Promise<void>)[] = [() => cluster.stop()];
  const code = desktopCode();
  if (code) {
    spawn(code, ['--new-window', `--extensionDevelopmentPath=${repoRoot}`, workspace], { stdio: 'inherit' });
    console.log(`Opened VS Code with the extension on ${workspace}. Press Ctrl+C here to stop the sandbox cluster.`);
  } else {
    await ensureCodeServer();
    const port = Number(process.env.PORT ?? 8080);
    const server = await startCodeServer({ port, settings: { 'workbench.colorTheme': 'Default Dark Modern' } });
    stops.unshift(() => server.stop());
    const url = server.workbenchUrl({ folder: workspace, extensionDevelopmentPath: repoRoot });
    console.log(`\nVS Code is running with the extension. Open this address in a browser:\n\n  ${url}\n`);
    console.log('Then click the "Volume Backups" icon in the activity bar. Press Ctrl+C to stop.');
  }
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    for (const s of stops) await s().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((e: Error) => {
  console.error(`npm start: ${e.message}`);
  process.exit(1);
});
