import { KubeConfig } from '@kubernetes/client-node';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

export interface MissingPlugin {
  user: string;
  command: string;
  searched: string[];
}

/**
 * Folders where credential plugins (aws, gke-gcloud-auth-plugin, kubelogin) usually live. A VS Code
 * started from a desktop launcher gets a short PATH without them, while a terminal's kubectl finds them.
 */
export function usualPluginDirs(home: string, platform: NodeJS.Platform = process.platform): string[] {
  const dirs = [join(home, '.local', 'bin'), join(home, 'bin'), join(home, '.krew', 'bin'), join(home, 'google-cloud-sdk', 'bin'), join(home, '.azure-kubelogin'), '/usr/local/bin', '/usr/bin', '/bin'];
  if (platform === 'darwin') dirs.push('/opt/homebrew/bin', '/usr/local/google-cloud-sdk/bin', '/opt/homebrew/share/google-cloud-sdk/bin');
  if (platform === 'linux') dirs.push('/snap/bin', '/usr/lib/google-cloud-sdk/bin', '/home/linuxbrew/.linuxbrew/bin');
  if (platform === 'win32') dirs.push(join(home, 'AppData', 'Local', 'Microsoft', 'WindowsApps'));
  return dirs;
}

function findExecutable(command: string, dirs: string[]): string | undefined {
  const names = process.platform === 'win32' && !/\.(exe|cmd|bat)$/i.test(command) ? [`${command}.exe`, `${command}.cmd`, command] : [command];
  for (const dir of dirs) {
    for (const name of names) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        /* keep looking */
      }
    }
  }
  return undefined;
}

/**
 * A copy of the kubeconfig whose exec credential plugins are given by absolute path, found on PATH or
 * in the usual folders, and the plugins that could not be found at all. The user's file is untouched.
 */
export function resolveExecPlugins(source: KubeConfig, env: NodeJS.ProcessEnv, extraDirs: string[]): { kubeConfig: KubeConfig; missing: MissingPlugin[] } {
  const searched = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...extraDirs];
  const missing: MissingPlugin[] = [];
  const users = source.users.map((u) => {
    const command = u.exec?.command;
    if (!command || isAbsolute(command) || command.includes('/') || command.includes('\\')) return u;
    const found = findExecutable(command, searched);
    if (!found) {
      missing.push({ user: u.name, command, searched });
      return u;
    }
    return { ...u, exec: { ...u.exec, command: found } };
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({ clusters: source.clusters, users, contexts: source.contexts, currentContext: source.currentContext });
  return { kubeConfig, missing };
}

export function missingPluginMessage(plugin: MissingPlugin): string {
  return `the kubeconfig user "${plugin.user}" gets its credentials from the plugin "${plugin.command}", which was not found on PATH or in ${plugin.searched.slice(-4).join(', ')} and similar folders; install it (or give its full path in the kubeconfig) and refresh`;
}
