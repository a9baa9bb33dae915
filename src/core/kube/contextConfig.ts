import { KubeConfig } from '@kubernetes/client-node';

/** A copy of the kubeconfig pointed at one context, so the user's file and other callers stay untouched. */
export function kubeConfigForContext(source: KubeConfig, context: string): KubeConfig {
  if (!source.getContextObject(context)) throw new Error(`the kubeconfig has no context named "${context}"`);
  const copy = new KubeConfig();
  copy.loadFromOptions({ clusters: source.clusters, users: source.users, contexts: source.contexts, currentContext: context });
  return copy;
}
