import { KubeConfig } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export interface KubeconfigLoad {
  /** Undefined when no file could be read. */
  kubeConfig?: KubeConfig;
  /** The files consulted, in precedence order (for watching them). */
  files: string[];
  /** Files that could not be read or parsed, with the reason in words. */
  problems: string[];
}

/** Which files to read: the setting's paths, else every path in KUBECONFIG, else ~/.kube/config. */
export function kubeconfigFiles(settingPaths: readonly string[], env: NodeJS.ProcessEnv, home: string, baseDir: string): string[] {
  const fromSetting = settingPaths.map((p) => p.trim()).filter(Boolean);
  if (fromSetting.length) return fromSetting.map((p) => resolve(baseDir, p.replace(/^~(?=$|[\\/])/, home)));
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).map((p) => p.trim()).filter(Boolean);
  if (fromEnv.length) return fromEnv.map((p) => resolve(p));
  return [join(home, '.kube', 'config')];
}

/**
 * Reads and merges kubeconfig files as kubectl does: the first file to define a cluster, user or
 * context wins, and the first current-context set wins. The files themselves are never written.
 */
export function loadKubeconfigs(files: readonly string[]): KubeconfigLoad {
  const problems: string[] = [];
  const loaded: KubeConfig[] = [];
  for (const file of files) {
    if (!existsSync(file)) {
      problems.push(`${file} does not exist`);
      continue;
    }
    try {
      const kc = new KubeConfig();
      kc.loadFromFile(file);
      loaded.push(kc);
    } catch (e) {
      problems.push(`${file} could not be read: ${(e as Error).message}`);
    }
  }
  if (!loaded.length) return { files: [...files], problems };
  return { kubeConfig: mergeKubeConfigs(loaded), files: [...files], problems };
}

/** kubectl's merge rule: the first config to define a cluster, user or context wins, and the first current-context. */
export function mergeKubeConfigs(configs: readonly KubeConfig[]): KubeConfig {
  const firstByName = <T extends { name: string }>(lists: T[][]): T[] => {
    const seen = new Map<string, T>();
    for (const list of lists) for (const item of list) if (!seen.has(item.name)) seen.set(item.name, item);
    return [...seen.values()];
  };
  const merged = new KubeConfig();
  merged.loadFromOptions({
    clusters: firstByName(configs.map((k) => k.clusters)),
    users: firstByName(configs.map((k) => k.users)),
    contexts: firstByName(configs.map((k) => k.contexts)),
    currentContext: configs.map((k) => k.currentContext).find(Boolean) ?? '',
  });
  return merged;
}
