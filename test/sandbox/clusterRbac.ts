import { randomBytes } from 'node:crypto';
import { KubeObject } from './api/objectStore';
import { rbacPolicy, rbacTypes, serviceAccountUser } from './api/rbacPolicy';
import { findResourceType } from './resourceTypes';
import { SandboxCluster } from './sandboxCluster';

const serviceAccounts = findResourceType('', 'v1', 'serviceaccounts')!;

/**
 * Real clusters bootstrap this pair: every authenticated user may ask what it may do (kubectl auth
 * can-i, SelfSubjectAccessReview), so deployments never grant it themselves.
 */
const basicUser: KubeObject[] = [
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'system:basic-user', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } },
    rules: [
      { apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], verbs: ['create'] },
      { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
    ],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'system:basic-user', labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:basic-user' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' }],
  },
];

/**
 * Makes the sandbox decide like a cluster with the RBAC authorizer: the Roles and bindings it
 * stores grant access from now on (admins in system:masters keep every right). Returns a function
 * that uninstalls the policy.
 */
export function enableRbac(cluster: SandboxCluster): () => void {
  for (const object of basicUser) {
    const type = object.kind === 'ClusterRole' ? rbacTypes.clusterRoles : rbacTypes.clusterRoleBindings;
    if (!cluster.store.get(type, undefined, object.metadata.name!)) cluster.seed(object);
  }
  return cluster.access.addPolicy(rbacPolicy(cluster.store));
}

/**
 * A bearer token for an existing ServiceAccount, as `kubectl create token` issues one: it
 * authenticates as `system:serviceaccount:<ns>:<name>` with the service-account groups.
 */
export function serviceAccountToken(cluster: SandboxCluster, namespace: string, name: string): string {
  if (!cluster.store.get(serviceAccounts, namespace, name)) throw new Error(`serviceaccounts "${name}" not found in namespace "${namespace}"`);
  const token = randomBytes(24).toString('hex');
  cluster.access.addToken(token, serviceAccountUser(namespace, name));
  return token;
}
