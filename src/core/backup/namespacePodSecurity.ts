import type { CoreV1Api } from '@kubernetes/client-node';
import { describeKubeError } from '../kube/describeKubeError';
import { withKubeRetry } from '../kube/retryTransient';

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

export const POD_SECURITY_ENFORCE_LABEL = 'pod-security.kubernetes.io/enforce';

export interface NamespacePodSecurity {
  /** The namespace's enforce label; absent when it has none (the cluster-wide default applies, privileged unless configured). */
  enforce?: PodSecurityLevel;
  /** `latest` unless the namespace pins a version. */
  version: string;
  /** Set when the labels could not be read; the dry run still tells the truth. */
  unknownBecause?: string;
}

/**
 * The Pod Security level a namespace enforces, from its labels. Lists with a field selector rather
 * than getting the namespace, so the discovery permission (`list namespaces`) suffices.
 */
export async function namespacePodSecurity(core: CoreV1Api, namespace: string): Promise<NamespacePodSecurity> {
  try {
    const list = await withKubeRetry(() => core.listNamespace({ fieldSelector: `metadata.name=${namespace}` }));
    const labels = list.items[0]?.metadata?.labels ?? {};
    const raw = labels[POD_SECURITY_ENFORCE_LABEL];
    // The admission plugin treats an unknown level as restricted (fail closed); so do we.
    const enforce: PodSecurityLevel | undefined = raw === undefined ? undefined : raw === 'privileged' || raw === 'baseline' ? raw : 'restricted';
    return { enforce, version: labels[`${POD_SECURITY_ENFORCE_LABEL}-version`] || 'latest' };
  } catch (e) {
    return { version: 'latest', unknownBecause: `the labels of namespace "${namespace}" could not be read: ${describeKubeError(e).message}` };
  }
}

/** `restricted:latest`, or a sentence when the namespace has no label. */
export function describePodSecurity(ps: NamespacePodSecurity): string {
  if (ps.unknownBecause) return `unknown (${ps.unknownBecause})`;
  if (!ps.enforce) return 'not labelled (the cluster default applies, privileged unless the cluster configures another)';
  return `${ps.enforce}:${ps.version}`;
}
