/** Mounted into every pod whose ServiceAccount token is automounted. */
export const SERVICE_ACCOUNT_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * True when this process runs inside a Kubernetes pod that can talk to its API server: the
 * kubelet sets the two variables and mounts the token. Requiring all three avoids treating a
 * laptop that merely exports KUBERNETES_SERVICE_HOST (some tools do) as a pod.
 */
export function detectInCluster(env: NodeJS.ProcessEnv, fileExists: (path: string) => boolean): boolean {
  return (
    Boolean(env.KUBERNETES_SERVICE_HOST) &&
    Boolean(env.KUBERNETES_SERVICE_PORT) &&
    fileExists(SERVICE_ACCOUNT_TOKEN_PATH)
  );
}
