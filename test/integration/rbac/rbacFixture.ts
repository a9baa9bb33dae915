import { KubeConfig } from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { PolicyRule, serviceAccountUsername } from '../../sandbox/api/rbacPolicy';
import { enableRbac, serviceAccountToken } from '../../sandbox/clusterRbac';
import { SandboxFixture, startSandbox } from '../sandboxFixture';

export const RBAC_DIR = join(__dirname, '../../../deploy/k8s/rbac');
export const SA_NAMESPACE = 'nerdy-k8s-volume-manager';
export const SA_NAME = 'nerdy-k8s-volume-manager';
export const SA_USER = serviceAccountUsername(SA_NAMESPACE, SA_NAME);
/** The kubeconfig context of the service account, as `kubectl auth can-i` lines name it. */
export const SA_CONTEXT = 'sandbox-nkvm';

/** The runbook's order: the app's namespace first, then the RBAC files (the RoleBinding comes per namespace). */
const CLUSTER_FILES = ['serviceaccount.yaml', 'clusterrole-runtime.yaml', 'clusterrole-cluster-discovery.yaml', 'clusterrolebinding-cluster-discovery.yaml'];

export interface RbacFixture {
  sb: SandboxFixture;
  /** Credentials of the ServiceAccount, never the admin's. */
  kubeConfig: KubeConfig;
  kubeconfigPath: string;
  /** Admin kubectl that must succeed; returns stdout. */
  admin(args: string[], input?: string): Promise<string>;
  /** kubectl with the ServiceAccount's kubeconfig. */
  asServiceAccount(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** The template's documented command: `sed 's/TARGET_NAMESPACE/<ns>/' ... | kubectl apply -f -`. */
  bindRuntime(namespace: string): Promise<void>;
  /** The runbook's rollback: `kubectl -n <ns> delete rolebinding nkvm-runtime`. */
  unbindRuntime(namespace: string): Promise<void>;
  stop(): Promise<void>;
}

/** A sandbox with RBAC on and the cluster-wide manifests applied by the real kubectl; no RoleBinding yet. */
export async function startRbacSandbox(): Promise<RbacFixture> {
  const sb = await startSandbox();
  enableRbac(sb.cluster);
  const admin = async (args: string[], input?: string): Promise<string> => {
    const r = await sb.kubectl(args, input === undefined ? undefined : { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout.toString();
  };
  // Stands in for deploy/k8s/app, which creates the namespace the ServiceAccount lives in.
  await admin(['apply', '-f', '-'], `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${SA_NAMESPACE}\n`);
  for (const file of CLUSTER_FILES) await admin(['apply', '-f', join(RBAC_DIR, file)]);

  const token = serviceAccountToken(sb.cluster, SA_NAMESPACE, SA_NAME);
  const kubeconfigPath = join(sb.dir, 'kubeconfig-nkvm');
  sb.cluster.writeKubeconfig(kubeconfigPath, { context: SA_CONTEXT, token, user: SA_NAME });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  const template = join(RBAC_DIR, 'rolebinding-runtime-template.yaml');
  return {
    sb,
    kubeConfig,
    kubeconfigPath,
    admin,
    async asServiceAccount(args) {
      const r = await sb.kubectl(['--kubeconfig', kubeconfigPath, ...args]);
      return { code: r.code, stdout: r.stdout.toString(), stderr: r.stderr };
    },
    async bindRuntime(namespace) {
      await admin(['apply', '-f', '-'], execFileSync('sed', [`s/TARGET_NAMESPACE/${namespace}/`, template], { encoding: 'utf8' }));
    },
    async unbindRuntime(namespace) {
      await admin(['-n', namespace, 'delete', 'rolebinding', 'nkvm-runtime']);
    },
    stop: () => sb.stop(),
  };
}

/** The rules of a ClusterRole manifest in deploy/k8s/rbac, as the files say them. */
export function manifestRules(file: string): PolicyRule[] {
  const role = parse(readFileSync(join(RBAC_DIR, file), 'utf8')) as { kind: string; rules: PolicyRule[] };
  if (role.kind !== 'ClusterRole') throw new Error(`${file} is a ${role.kind}, not a ClusterRole`);
  return role.rules;
}

/** Every document of every manifest, for checks over all of them. */
export function allManifests(): { file: string; doc: Record<string, unknown> }[] {
  return [...CLUSTER_FILES, 'rolebinding-runtime-template.yaml'].flatMap((file) =>
    parseAllDocuments(readFileSync(join(RBAC_DIR, file), 'utf8')).map((d) => ({ file, doc: d.toJSON() as Record<string, unknown> })),
  );
}

/** One (verb, group, resource[/subresource]) per entry, as a rule grants them. */
export function expandRule(rule: PolicyRule): { verb: string; group: string; resource: string; subresource?: string }[] {
  return (rule.apiGroups ?? []).flatMap((group) =>
    (rule.resources ?? []).flatMap((combined) => {
      const [resource, subresource] = combined.split('/');
      return (rule.verbs ?? []).map((verb) => ({ verb, group, resource, ...(subresource ? { subresource } : {}) }));
    }),
  );
}
