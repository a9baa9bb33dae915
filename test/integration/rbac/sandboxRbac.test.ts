import { AuthorizationV1Api, CoreV1Api, KubeConfig, V1ResourceAttributes } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ExecRefusedError, execInPod } from '../../../src/core/kube/podExec';
import { KubeObject } from '../../sandbox/api/objectStore';
import { enableRbac, serviceAccountToken } from '../../sandbox/clusterRbac';
import { SandboxFixture, startSandbox } from '../sandboxFixture';

const rbacApi = 'rbac.authorization.k8s.io/v1';
const clusterRole = (name: string, rules: object[]): KubeObject => ({ apiVersion: rbacApi, kind: 'ClusterRole', metadata: { name }, rules });
const role = (namespace: string, name: string, rules: object[]): KubeObject => ({ apiVersion: rbacApi, kind: 'Role', metadata: { name, namespace }, rules });
const binding = (kind: 'RoleBinding' | 'ClusterRoleBinding', name: string, namespace: string | undefined, roleRef: { kind: string; name: string }, subjects: object[]): KubeObject => ({
  apiVersion: rbacApi,
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}) },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...roleRef },
  subjects,
});

describe('the sandbox RBAC authorizer decides as the real one does', function () {
  this.timeout(30_000);
  let sb: SandboxFixture;
  const users: Record<string, KubeConfig> = {};

  before(async () => {
    sb = await startSandbox();
    enableRbac(sb.cluster);
    sb.cluster.seed(
      ...['shop', 'media'].map((namespace): KubeObject => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot', namespace } })),
      clusterRole('pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]),
      clusterRole('namespace-reader', [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list'] }]),
      clusterRole('deployment-lister', [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['list'] }]),
      clusterRole('any-exec', [{ apiGroups: [''], resources: ['*/exec'], verbs: ['create'] }]),
      role('media', 'exec-only', [{ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }]),
      role('analytics', 'one-pod', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'delete'], resourceNames: ['nightly-report-29391840-8xk2m'] }]),
      // A subject without a namespace in a RoleBinding means a ServiceAccount of the binding's namespace.
      binding('RoleBinding', 'robot-reads-pods', 'shop', { kind: 'ClusterRole', name: 'pod-reader' }, [{ kind: 'ServiceAccount', name: 'robot' }]),
      binding('RoleBinding', 'robot-reads-namespaces', 'shop', { kind: 'ClusterRole', name: 'namespace-reader' }, [{ kind: 'ServiceAccount', name: 'robot', namespace: 'shop' }]),
      binding('RoleBinding', 'media-accounts-exec', 'media', { kind: 'Role', name: 'exec-only' }, [{ kind: 'Group', name: 'system:serviceaccounts:media' }]),
      binding('RoleBinding', 'alice-one-pod', 'analytics', { kind: 'Role', name: 'one-pod' }, [{ kind: 'User', name: 'alice' }]),
      binding('RoleBinding', 'accounts-exec', 'analytics', { kind: 'ClusterRole', name: 'any-exec' }, [{ kind: 'Group', name: 'system:serviceaccounts' }]),
      binding('ClusterRoleBinding', 'devs-list-deployments', undefined, { kind: 'ClusterRole', name: 'deployment-lister' }, [{ kind: 'Group', name: 'devs' }]),
      // A ClusterRoleBinding cannot use a Role: it grants nothing.
      binding('ClusterRoleBinding', 'role-cluster-wide', undefined, { kind: 'Role', name: 'exec-only' }, [{ kind: 'Group', name: 'system:authenticated' }]),
    );
    const kubeConfigFor = (token: string, user: string): KubeConfig => {
      const kc = new KubeConfig();
      kc.loadFromString(sb.cluster.kubeconfig({ token, user }));
      return kc;
    };
    users.shopRobot = kubeConfigFor(serviceAccountToken(sb.cluster, 'shop', 'robot'), 'shop-robot');
    users.mediaRobot = kubeConfigFor(serviceAccountToken(sb.cluster, 'media', 'robot'), 'media-robot');
    sb.cluster.access.addToken('alice-token', { username: 'alice', groups: ['devs', 'system:authenticated'] });
    users.alice = kubeConfigFor('alice-token', 'alice');
  });
  after(async () => sb?.stop());

  const can = async (who: string, attributes: V1ResourceAttributes): Promise<{ allowed: boolean; reason?: string }> => {
    const review = await users[who].makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attributes } } });
    return { allowed: review.status!.allowed, reason: review.status!.reason };
  };
  const pods = (verb: string, namespace?: string, extra: V1ResourceAttributes = {}): V1ResourceAttributes => ({ verb, resource: 'pods', ...(namespace ? { namespace } : {}), ...extra });

  it('a RoleBinding of a ClusterRole grants only inside its namespace, naming binding, role and subject', async () => {
    assert.deepEqual(await can('shopRobot', pods('list', 'shop')), {
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "robot-reads-pods/shop" of ClusterRole "pod-reader" to ServiceAccount "robot/shop"',
    });
    assert.equal((await can('shopRobot', pods('list', 'media'))).allowed, false);
    // A cluster-wide list needs a ClusterRoleBinding, even for a user who may list in some namespaces.
    assert.equal((await can('shopRobot', pods('list'))).allowed, false);
    assert.equal((await can('mediaRobot', pods('list', 'shop'))).allowed, false, 'robot of media is not robot of shop');
  });

  it('cluster-scoped resources only through ClusterRoleBindings, except reading the binding’s own namespace', async () => {
    assert.equal((await can('shopRobot', { verb: 'list', resource: 'namespaces' })).allowed, false);
    assert.equal((await can('shopRobot', { verb: 'get', resource: 'namespaces', name: 'shop' })).allowed, true);
    assert.equal((await can('shopRobot', { verb: 'get', resource: 'namespaces', name: 'media' })).allowed, false);
    assert.deepEqual(await can('alice', { verb: 'list', group: 'apps', resource: 'deployments' }), {
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "devs-list-deployments" of ClusterRole "deployment-lister" to Group "devs"',
    });
    assert.equal((await can('alice', { verb: 'list', resource: 'deployments' })).allowed, false, 'the core group is not apps');
    // role-cluster-wide binds every authenticated user to the Role exec-only of media, to no effect.
    assert.equal((await can('alice', pods('create', 'media', { subresource: 'exec' }))).allowed, false);
  });

  it('subresources: pods does not cover pods/exec and pods/exec does not cover pods; */exec covers exec of any resource', async () => {
    assert.equal((await can('shopRobot', pods('get', 'shop', { subresource: 'exec' }))).allowed, false);
    assert.deepEqual(await can('mediaRobot', pods('create', 'media', { subresource: 'exec' })), {
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "media-accounts-exec/media" of Role "exec-only" to Group "system:serviceaccounts:media"',
    });
    assert.equal((await can('mediaRobot', pods('create', 'media'))).allowed, false);
    assert.equal((await can('shopRobot', pods('create', 'media', { subresource: 'exec' }))).allowed, false, 'the group is per namespace');
    assert.deepEqual(await can('shopRobot', pods('create', 'analytics', { subresource: 'exec' })), {
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "accounts-exec/analytics" of ClusterRole "any-exec" to Group "system:serviceaccounts"',
    });
    assert.equal((await can('alice', pods('create', 'analytics', { subresource: 'exec' }))).allowed, false, 'alice is no service account');
  });

  it('resourceNames: only the named object, never a list or a create', async () => {
    const named = pods('get', 'analytics', { name: 'nightly-report-29391840-8xk2m' });
    assert.deepEqual(await can('alice', named), { allowed: true, reason: 'RBAC: allowed by RoleBinding "alice-one-pod/analytics" of Role "one-pod" to User "alice"' });
    assert.equal((await can('alice', pods('get', 'analytics', { name: 'other' }))).allowed, false);
    assert.equal((await can('alice', pods('get', 'analytics'))).allowed, false);
    assert.equal((await can('alice', pods('list', 'analytics'))).allowed, false);
    const core = users.alice.makeApiClient(CoreV1Api);
    assert.equal((await core.readNamespacedPod({ namespace: 'analytics', name: 'nightly-report-29391840-8xk2m' })).metadata?.name, 'nightly-report-29391840-8xk2m');
    await assert.rejects(core.listNamespacedPod({ namespace: 'analytics' }), (e: { code?: number; body?: string }) => {
      assert.equal(e.code, 403);
      assert.match(String(e.body), /User \\"alice\\" cannot list resource \\"pods\\" in API group \\"\\" in the namespace \\"analytics\\"/);
      return true;
    });
  });

  it('every authenticated user may ask what it may do (system:basic-user), and a refused exec is logged as 403', async () => {
    for (const who of Object.keys(users)) {
      assert.deepEqual(await can(who, { verb: 'create', group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' }), {
        allowed: true,
        reason: 'RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated"',
      });
    }
    const from = sb.cluster.requests.length;
    const refused = execInPod(users.alice, { namespace: 'shop', pod: 'orders-db-0', container: 'main', command: ['true'], stdout: new PassThrough(), stderr: () => undefined });
    await assert.rejects(refused, (e: Error) => {
      assert.ok(e instanceof ExecRefusedError && e.statusCode === 403, String(e));
      assert.match(e.message, /User "alice" cannot create resource "pods\/exec" in API group "" in the namespace "shop"/);
      return true;
    });
    const exec = sb.cluster.requests.slice(from).filter((q) => q.subresource === 'exec');
    assert.ok(exec.length > 0 && exec.every((q) => q.status === 403 && q.user === 'alice'), JSON.stringify(exec));
  });
});
