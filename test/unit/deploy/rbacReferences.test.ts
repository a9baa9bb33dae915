import * as assert from 'node:assert/strict';
import { APP_NAMESPACE, appObjects, deploymentOf, only, rbacObjects, SERVICE_ACCOUNT, type KubeObject } from './deployManifests';

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}
interface Binding extends KubeObject {
  roleRef: { kind: string; name: string };
  subjects?: Subject[];
}

const isOurServiceAccount = (s: Subject) => s.kind === 'ServiceAccount' && s.name === SERVICE_ACCOUNT && s.namespace === APP_NAMESPACE;

// deploy/k8s/rbac is maintained next to deploy/k8s/app; these checks fail, naming what is missing, until both agree.
describe('deploy/k8s/app against deploy/k8s/rbac', () => {
  it('runs the workbench as the ServiceAccount that deploy/k8s/rbac defines', () => {
    const rbac = rbacObjects();
    const accounts = rbac.filter((o) => o.kind === 'ServiceAccount');
    const podAccount = deploymentOf(appObjects()).spec!.template.spec!.serviceAccountName;
    assert.ok(
      accounts.some((a) => a.metadata?.name === podAccount && a.metadata?.namespace === APP_NAMESPACE),
      `deploy/k8s/rbac defines no ServiceAccount ${podAccount} in namespace ${APP_NAMESPACE} (found: ${accounts.map((a) => `${a.metadata?.namespace}/${a.metadata?.name}`).join(', ') || 'none'})`,
    );
  });

  it('binds nkvm-cluster-discovery cluster-wide and nkvm-runtime per namespace to that ServiceAccount', () => {
    const rbac = rbacObjects();
    const clusterRoles = rbac.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata?.name);
    assert.ok(clusterRoles.includes('nkvm-runtime'), 'deploy/k8s/rbac has no ClusterRole nkvm-runtime');
    assert.ok(clusterRoles.includes('nkvm-cluster-discovery'), 'deploy/k8s/rbac has no ClusterRole nkvm-cluster-discovery');

    const discovery = rbac.filter((o): o is Binding => o.kind === 'ClusterRoleBinding' && (o as Binding).roleRef?.name === 'nkvm-cluster-discovery');
    assert.ok(discovery.length > 0, 'no ClusterRoleBinding grants nkvm-cluster-discovery');
    assert.ok(discovery.some((b) => b.subjects?.some(isOurServiceAccount)), `the discovery binding does not name ServiceAccount ${APP_NAMESPACE}/${SERVICE_ACCOUNT}`);

    // The runbook's rollback is `kubectl -n <ns> delete rolebinding nkvm-runtime`: the name must match.
    const runtime = only<Binding>(rbac, 'RoleBinding', 'nkvm-runtime');
    assert.deepEqual({ kind: runtime.roleRef.kind, name: runtime.roleRef.name }, { kind: 'ClusterRole', name: 'nkvm-runtime' });
    assert.ok(runtime.subjects?.some(isOurServiceAccount), `the nkvm-runtime RoleBinding does not name ServiceAccount ${APP_NAMESPACE}/${SERVICE_ACCOUNT}`);
  });
});
