import { findResourceType } from '../resourceTypes';
import { AccessAttributes, AccessPolicy, UserInfo } from './access';
import { KubeObject, ObjectStore } from './objectStore';

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

interface RoleRef {
  kind: string;
  name: string;
}

/** Which binding, role, subject and rule let a request through. */
export interface RbacGrant {
  binding: { kind: 'ClusterRoleBinding' | 'RoleBinding'; name: string; namespace?: string };
  role: RoleRef;
  subject: Subject;
  rule: PolicyRule;
  /** Worded as the real authorizer words it, for SelfSubjectAccessReview and logs. */
  reason: string;
}

const rbac = (plural: string) => findResourceType('rbac.authorization.k8s.io', 'v1', plural)!;
export const rbacTypes = { roles: rbac('roles'), roleBindings: rbac('rolebindings'), clusterRoles: rbac('clusterroles'), clusterRoleBindings: rbac('clusterrolebindings') };

/**
 * The RBAC authorizer over the Roles, ClusterRoles and bindings stored in the sandbox, so manifests
 * applied through the API (kubectl apply, kubectl delete) take effect at once. No matching rule is
 * "no opinion", as upstream: the request is then refused unless another policy allows it.
 */
export function rbacPolicy(store: ObjectStore): AccessPolicy {
  return (attrs) => {
    const grant = findGrant(store, attrs);
    return grant ? { allowed: true, reason: grant.reason } : undefined;
  };
}

/** The first grant in the upstream authorizer's order: ClusterRoleBindings, then the namespace's RoleBindings. */
export function findGrant(store: ObjectStore, attrs: AccessAttributes): RbacGrant | undefined {
  // Upstream takes the namespace of `GET /api/v1/namespaces/x` to be x, so a RoleBinding in x can grant it.
  const namespace = attrs.namespace ?? (attrs.group === '' && attrs.resource === 'namespaces' ? attrs.name : undefined);
  for (const binding of store.list(rbacTypes.clusterRoleBindings)) {
    const grant = grantOf(store, binding, 'ClusterRoleBinding', undefined, attrs);
    if (grant) return grant;
  }
  if (!namespace) return undefined;
  for (const binding of store.list(rbacTypes.roleBindings, namespace)) {
    const grant = grantOf(store, binding, 'RoleBinding', namespace, attrs);
    if (grant) return grant;
  }
  return undefined;
}

function grantOf(store: ObjectStore, binding: KubeObject, kind: RbacGrant['binding']['kind'], bindingNamespace: string | undefined, attrs: AccessAttributes): RbacGrant | undefined {
  const subject = ((binding.subjects as Subject[] | undefined) ?? []).find((s) => subjectMatches(s, attrs.user, bindingNamespace));
  if (!subject) return undefined;
  const roleRef = binding.roleRef as RoleRef;
  const rule = roleRules(store, roleRef, bindingNamespace).find((r) => ruleAllows(r, attrs));
  if (!rule) return undefined;
  const name = binding.metadata.name!;
  const bindingText = kind === 'RoleBinding' ? `${name}/${bindingNamespace}` : name;
  return {
    binding: { kind, name, namespace: bindingNamespace },
    role: { kind: roleRef.kind, name: roleRef.name },
    subject,
    rule,
    reason: `RBAC: allowed by ${kind} "${bindingText}" of ${roleRef.kind} "${roleRef.name}" to ${describeSubject(subject, bindingNamespace)}`,
  };
}

/** A Role is looked up in the binding's namespace; a ClusterRoleBinding cannot use a Role at all. */
function roleRules(store: ObjectStore, roleRef: RoleRef, bindingNamespace: string | undefined): PolicyRule[] {
  if (roleRef.kind === 'ClusterRole') return (store.get(rbacTypes.clusterRoles, undefined, roleRef.name)?.rules as PolicyRule[] | undefined) ?? [];
  if (roleRef.kind === 'Role' && bindingNamespace) return (store.get(rbacTypes.roles, bindingNamespace, roleRef.name)?.rules as PolicyRule[] | undefined) ?? [];
  return [];
}

/** Service accounts are users named `system:serviceaccount:<ns>:<name>`; a subject without namespace means the binding's. */
export function subjectMatches(subject: Subject, user: UserInfo, bindingNamespace: string | undefined): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.name === user.username;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const namespace = subject.namespace || bindingNamespace;
      return !!namespace && user.username === serviceAccountUsername(namespace, subject.name);
    }
    default:
      return false;
  }
}

/** Upstream RuleAllows for resource requests: verb, API group, `resource[/subresource]` (or `*\/sub`), resource names. */
export function ruleAllows(rule: PolicyRule, attrs: Pick<AccessAttributes, 'verb' | 'group' | 'resource' | 'subresource' | 'name'>): boolean {
  const combined = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  const verbOk = (rule.verbs ?? []).some((v) => v === '*' || v === attrs.verb);
  const groupOk = (rule.apiGroups ?? []).some((g) => g === '*' || g === attrs.group);
  const resourceOk = (rule.resources ?? []).some((r) => r === '*' || r === combined || (!!attrs.subresource && r === `*/${attrs.subresource}`));
  // A rule naming objects never matches a request without a name (create, a list without a name selector).
  const nameOk = !rule.resourceNames?.length || (!!attrs.name && rule.resourceNames.includes(attrs.name));
  return verbOk && groupOk && resourceOk && nameOk;
}

export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** The user a service account token authenticates as, with the groups the API server adds. */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return { username: serviceAccountUsername(namespace, name), groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] };
}

function describeSubject(subject: Subject, bindingNamespace: string | undefined): string {
  if (subject.kind === 'ServiceAccount') return `ServiceAccount "${subject.name}/${subject.namespace || bindingNamespace}"`;
  return `${subject.kind} "${subject.name}"`;
}
