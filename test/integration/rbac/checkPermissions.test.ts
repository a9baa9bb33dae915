import assert from 'node:assert/strict';
import { checkPermissions, PermissionCheck, permissionLabel, summarizePermissionChecks } from '../../../src/core/access/checkPermissions';
import { RbacFixture, SA_CONTEXT, SA_NAME, SA_NAMESPACE, startRbacSandbox } from './rbacFixture';
import { requireKubectl } from '../sandboxFixture';

const SA = `ServiceAccount "${SA_NAME}/${SA_NAMESPACE}"`;

describe('checkPermissions and kubectl auth can-i with the ServiceAccount', function () {
  this.timeout(60_000);
  let rbac: RbacFixture;

  before(async function () {
    requireKubectl(this);
    rbac = await startRbacSandbox();
  });
  after(async () => rbac?.stop());

  const byLabel = (checks: PermissionCheck[]) => Object.fromEntries(checks.map((c) => [permissionLabel(c), c.allowed]));
  /** Runs each check's own `kubectl auth can-i` line with the ServiceAccount's kubeconfig. */
  const assertKubectlAgrees = async (checks: PermissionCheck[]): Promise<void> => {
    for (const check of checks) {
      const [program, ...args] = check.command.split(' ');
      assert.equal(program, 'kubectl');
      const r = await rbac.asServiceAccount(args);
      assert.equal(r.stdout.trim(), check.allowed ? 'yes' : 'no', `${check.command}: ${r.stderr}`);
      assert.equal(r.code, check.allowed ? 0 : 1, check.command);
    }
  };

  it('without nkvm-runtime: names every missing permission; pods are listable through discovery', async () => {
    const checks = await checkPermissions(rbac.kubeConfig, 'shop');
    assert.deepEqual(byLabel(checks), {
      'get persistentvolumeclaims': false,
      'list pods': true,
      'create pods': false,
      'get pods': false,
      'watch pods': false,
      'list events': false,
      'create pods/exec': false,
      'get pods/exec': false,
      'patch pods': false,
      'delete pods': false,
      'create persistentvolumeclaims': false,
      'delete persistentvolumeclaims': false,
      'create volumesnapshots.snapshot.storage.k8s.io': false,
      'get volumesnapshots.snapshot.storage.k8s.io': false,
      'delete volumesnapshots.snapshot.storage.k8s.io': false,
    });
    assert.equal(checks.find((c) => c.allowed)?.reason, `RBAC: allowed by ClusterRoleBinding "nkvm-cluster-discovery" of ClusterRole "nkvm-cluster-discovery" to ${SA}`);
    assert.ok(checks.every((c) => c.why.length > 0 && c.namespace === 'shop'));
    assert.equal(
      summarizePermissionChecks('shop', checks),
      'Backups in "shop" are missing: get persistentvolumeclaims, create pods, get pods, watch pods, list events, create pods/exec, get pods/exec (only for API servers before 1.35), patch pods, delete pods, ' +
        'create persistentvolumeclaims, delete persistentvolumeclaims, create volumesnapshots.snapshot.storage.k8s.io, get volumesnapshots.snapshot.storage.k8s.io, ' +
        'delete volumesnapshots.snapshot.storage.k8s.io. ' +
        'Apply deploy/k8s/rbac/rolebinding-runtime-template.yaml for "shop" (RoleBinding nkvm-runtime).',
    );
    await assertKubectlAgrees(checks);
  });

  it('with nkvm-runtime: all granted by the RoleBinding, and kubectl agrees', async () => {
    await rbac.bindRuntime('shop');
    const checks = await checkPermissions(rbac.kubeConfig, 'shop');
    assert.deepEqual(checks.filter((c) => !c.allowed), []);
    const exec = checks.find((c) => c.verb === 'create' && c.subresource === 'exec')!;
    assert.equal(exec.reason, `RBAC: allowed by RoleBinding "nkvm-runtime/shop" of ClusterRole "nkvm-runtime" to ${SA}`);
    assert.equal(exec.command, `kubectl --context ${SA_CONTEXT} auth can-i create pods --subresource=exec -n shop`);
    assert.equal(summarizePermissionChecks('shop', checks), 'Backups and restores in "shop" have every permission they need.');
    await assertKubectlAgrees(checks);

    // Another namespace is untouched by the binding in shop.
    assert.deepEqual((await checkPermissions(rbac.kubeConfig, 'media')).filter((c) => c.allowed).map(permissionLabel), ['list pods']);
  });

  it('after the rollback the same checks say no again', async () => {
    await rbac.unbindRuntime('shop');
    const checks = await checkPermissions(rbac.kubeConfig, 'shop');
    assert.deepEqual(checks.filter((c) => c.allowed).map(permissionLabel), ['list pods']);
    await assertKubectlAgrees(checks);
  });

  it('`kubectl auth can-i create pods/exec` asks about a pod named exec; --subresource=exec asks about exec', async () => {
    // A role that may create pods but not exec into them tells the two forms apart.
    await rbac.admin(
      ['apply', '-f', '-'],
      [
        'apiVersion: rbac.authorization.k8s.io/v1',
        'kind: Role',
        'metadata: {name: pod-starter, namespace: analytics}',
        'rules: [{apiGroups: [""], resources: [pods], verbs: [create]}]',
        '---',
        'apiVersion: rbac.authorization.k8s.io/v1',
        'kind: RoleBinding',
        'metadata: {name: pod-starter, namespace: analytics}',
        'roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-starter}',
        `subjects: [{kind: ServiceAccount, name: ${SA_NAME}, namespace: ${SA_NAMESPACE}}]`,
      ].join('\n'),
    );
    const slashForm = await rbac.asServiceAccount(['auth', 'can-i', 'create', 'pods/exec', '-n', 'analytics']);
    const subresourceForm = await rbac.asServiceAccount(['auth', 'can-i', 'create', 'pods', '--subresource=exec', '-n', 'analytics']);
    assert.equal(slashForm.stdout.trim(), 'yes', 'create on the pod named "exec" is covered by create pods');
    assert.equal(subresourceForm.stdout.trim(), 'no');
    const checks = await checkPermissions(rbac.kubeConfig, 'analytics');
    assert.equal(checks.find((c) => c.verb === 'create' && c.subresource === 'exec')?.allowed, false);
    assert.equal(checks.find((c) => c.verb === 'create' && !c.subresource)?.allowed, true);
  });
});
