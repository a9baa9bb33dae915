import { KubeConfig } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';

export const IN_CLUSTER_CONTEXT = 'in-cluster';
const tokenPath = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * The pod's own service account as a kubeconfig with one context, `in-cluster`, when this process
 * runs in a pod (service host and port in the environment, a mounted token). `pathPrefix` lets tests
 * mount the service account folder elsewhere.
 */
export function inClusterKubeConfig(env: NodeJS.ProcessEnv, pathPrefix = ''): KubeConfig | undefined {
  if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT || !existsSync(`${pathPrefix}${tokenPath}`)) return undefined;
  const loaded = new KubeConfig();
  // client-node reads the host and port from process.env; hand it the environment we were given.
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
  process.env.KUBERNETES_SERVICE_HOST = env.KUBERNETES_SERVICE_HOST;
  process.env.KUBERNETES_SERVICE_PORT = env.KUBERNETES_SERVICE_PORT;
  try {
    loaded.loadFromCluster(pathPrefix);
  } finally {
    restore('KUBERNETES_SERVICE_HOST', saved.host);
    restore('KUBERNETES_SERVICE_PORT', saved.port);
  }
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...loaded.clusters[0], name: IN_CLUSTER_CONTEXT }],
    users: [{ ...loaded.users[0], name: `${IN_CLUSTER_CONTEXT}-service-account` }],
    contexts: [{ ...loaded.contexts[0], name: IN_CLUSTER_CONTEXT, cluster: IN_CLUSTER_CONTEXT, user: `${IN_CLUSTER_CONTEXT}-service-account`, namespace: loaded.contexts[0].namespace?.trim() }],
    currentContext: IN_CLUSTER_CONTEXT,
  });
  return kc;
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
