import { KubeConfig } from '@kubernetes/client-node';

/** A pasted kubeconfig that cannot be used, with every problem named. */
export class KubeconfigTextError extends Error {
  constructor(readonly problems: string[]) {
    super(`The kubeconfig cannot be used: ${problems.join('; ')}`);
  }
}

/** Parses and checks a kubeconfig given as text (pasted by the user); throws KubeconfigTextError. */
export function parseKubeconfigText(text: string): KubeConfig {
  if (!text.trim()) throw new KubeconfigTextError(['it is empty']);
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (e) {
    throw new KubeconfigTextError([`it is not a valid kubeconfig (${(e as Error).message.split('\n')[0]})`]);
  }
  const problems: string[] = [];
  if (!kc.clusters.length) problems.push('it has no clusters');
  if (!kc.users.length) problems.push('it has no users');
  if (!kc.contexts.length) problems.push('it has no contexts');
  for (const c of kc.clusters) if (!c.server) problems.push(`cluster "${c.name}" has no server address`);
  for (const ctx of kc.contexts) {
    if (!kc.clusters.some((c) => c.name === ctx.cluster)) problems.push(`context "${ctx.name}" names cluster "${ctx.cluster}", which is not defined`);
    if (ctx.user && !kc.users.some((u) => u.name === ctx.user)) problems.push(`context "${ctx.name}" names user "${ctx.user}", which is not defined`);
  }
  if (problems.length) throw new KubeconfigTextError(problems);
  return kc;
}

/**
 * The same config with its cluster and user names prefixed, so that two pasted kubeconfigs that both
 * call their user `admin` never lend each other credentials when merged. Context names stay.
 */
export function withPrivateNames(kc: KubeConfig, prefix: string): KubeConfig {
  const rename = (name: string | undefined): string => `${prefix}${name ?? ''}`;
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: kc.clusters.map((c) => ({ ...c, name: rename(c.name) })),
    users: kc.users.map((u) => ({ ...u, name: rename(u.name) })),
    contexts: kc.contexts.map((c) => ({ ...c, cluster: rename(c.cluster), user: rename(c.user) })),
    currentContext: kc.currentContext,
  });
  return out;
}
