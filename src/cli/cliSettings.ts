import { KubeConfig } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { detectInCluster } from '../core/config/detectInCluster';
import type { NkvmSettings } from '../core/config/nkvmSettings';
import { resolveSettings } from '../core/config/resolveSettings';
import { kubeConfigForContext } from '../core/kube/contextConfig';

/** Settings for the command line: defaults, then NKVM_* variables, relative to the current folder. */
export function cliSettings(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): NkvmSettings {
  return resolveSettings({ raw: {}, env, baseDir: cwd, inCluster: detectInCluster(env, existsSync) }).settings;
}

/** The kubeconfig as kubectl finds it (KUBECONFIG with all its paths, else ~/.kube/config, else in-cluster). */
export function cliKubeConfig(context?: string): { kubeConfig: KubeConfig; context: string } {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const name = context ?? kc.getCurrentContext();
  if (!name) throw new Error('no kubeconfig context found: set KUBECONFIG or pass --context');
  return { kubeConfig: kubeConfigForContext(kc, name), context: name };
}

/** Where a command reports a helper lease it could not renew: a warning on stderr, the work goes on. */
export function helperWarning(err: NodeJS.WritableStream): (message: string) => void {
  return (message) => err.write(`warning: ${message}\n`);
}
