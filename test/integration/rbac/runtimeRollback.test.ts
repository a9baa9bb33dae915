import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BackupResult, backupVolume } from '../../../src/core/backup/backupVolume';
import { discoverVolumes, listNamespaces, listVolumesInNamespace } from '../../../src/core/discovery/discoverVolumes';
import { types } from '../../sandbox/cluster/types';
import { RbacFixture, SA_USER, startRbacSandbox } from './rbacFixture';
import { requireKubectl } from '../sandboxFixture';

describe('the ServiceAccount with deploy/k8s/rbac: discovery everywhere, backups where nkvm-runtime is bound', function () {
  this.timeout(60_000);
  let rbac: RbacFixture;
  let runs = 0;
  const options = { maxNamespaceScan: 100, timeoutSeconds: 10 };

  before(async function () {
    requireKubectl(this);
    rbac = await startRbacSandbox();
  });
  after(async () => rbac?.stop());

  const backup = (namespace: string, pvc: string): Promise<BackupResult> =>
    backupVolume(rbac.kubeConfig, { context: 'sandbox-nkvm', namespace, pvc }, { backupDir: join(rbac.sb.dir, `backups-${++runs}`), helperImage: 'alpine:3.20', helperPodTimeoutSeconds: 20 }, 'rbac-run');
  const helperPods = () => rbac.sb.cluster.store.list(types.pods).filter((p) => p.metadata.labels?.['app.kubernetes.io/component'] === 'backup-helper');
  const archivesIn = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.tar.gz')) : []);
  /** What the ServiceAccount sends meanwhile. */
  const watching = async <T>(work: () => Promise<T>) => {
    const from = rbac.sb.cluster.requests.length;
    const result = await work();
    return { result, requests: rbac.sb.cluster.requests.slice(from).filter((r) => r.user === SA_USER) };
  };

  /** Discovery through the ServiceAccount sees what the admin sees, without a warning or a refusal. */
  const assertDiscoveryComplete = async (): Promise<void> => {
    const { result: mine, requests } = await watching(() => discoverVolumes(rbac.kubeConfig, options));
    const admins = await discoverVolumes(rbac.sb.kubeConfig, options);
    assert.deepEqual(mine.warnings, []);
    assert.deepEqual(mine.namespaces, admins.namespaces);
    // The context name differs; everything else must be identical.
    assert.deepEqual(mine.volumes.map((v) => ({ ...v, context: undefined })), admins.volumes.map((v) => ({ ...v, context: undefined })));
    assert.ok(requests.length > 0 && requests.every((r) => r.status === 200), requests.map((r) => `${r.status} ${r.path}`).join('\n'));
  };

  it('lists every namespace, volume and consumer with the discovery ClusterRole alone', async () => {
    await assertDiscoveryComplete();
    const tree = await listNamespaces(rbac.kubeConfig, options);
    assert.deepEqual(tree.namespaces, ['analytics', 'default', 'kube-system', 'media', 'nerdy-k8s-volume-manager', 'shop']);
    const shop = await listVolumesInNamespace(rbac.kubeConfig, 'shop', options);
    assert.deepEqual(shop.warnings, []);
    const uploads = shop.volumes.find((v) => v.name === 'storefront-uploads');
    assert.equal(uploads?.consumers[0]?.pod, 'storefront-7d9c8b6f5-x2kqp');
    assert.deepEqual(uploads?.consumers[0]?.owner, { kind: 'Deployment', name: 'storefront', via: { kind: 'ReplicaSet', name: 'storefront-7d9c8b6f5' } });
    const reports = (await listVolumesInNamespace(rbac.kubeConfig, 'analytics', options)).volumes.find((v) => v.name === 'reports');
    assert.equal(reports?.consumers[0]?.owner?.kind, 'CronJob');
  });

  it('fails a backup at create without nkvm-runtime, naming the missing permission and the RoleBinding, and creates nothing', async () => {
    const { result, requests } = await watching(() => backup('shop', 'storefront-uploads'));
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'create');
    assert.match(result.message, /^create stage failed: could not read PersistentVolumeClaim "storefront-uploads": forbidden: /);
    assert.match(result.message, /User "system:serviceaccount:nerdy-k8s-volume-manager:nerdy-k8s-volume-manager" cannot get resource "persistentvolumeclaims" in API group "" in the namespace "shop"/);
    assert.match(result.nextStep ?? '', /RoleBinding nkvm-runtime exists in namespace "shop"/);
    assert.deepEqual(requests.map((r) => `${r.status} ${r.verb} ${r.resource}`), ['403 get persistentvolumeclaims']);
    assert.deepEqual(helperPods(), []);
    assert.deepEqual(archivesIn(join(rbac.sb.dir, `backups-${runs}`)), []);
  });

  it('backs up once the RoleBinding template is applied for the namespace, and only there', async () => {
    await rbac.bindRuntime('shop');
    const result = await backup('shop', 'storefront-uploads');
    assert.equal(result.status, 'success', result.message);
    assert.equal(execFileSync('sha256sum', [result.archivePath!], { encoding: 'utf8' }).split(' ')[0], result.checksum);
    assert.deepEqual(helperPods(), []);

    const elsewhere = await backup('analytics', 'reports');
    assert.equal(elsewhere.stage, 'create', elsewhere.message);
    assert.match(elsewhere.message, /cannot get resource "persistentvolumeclaims" in API group "" in the namespace "analytics"/);
  });

  it('fails again after the rollback (kubectl -n shop delete rolebinding nkvm-runtime) while discovery keeps working', async () => {
    await rbac.unbindRuntime('shop');
    const result = await backup('shop', 'storefront-uploads');
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'create');
    assert.match(result.message, /cannot get resource "persistentvolumeclaims" in API group "" in the namespace "shop"/);
    assert.deepEqual(helperPods(), []);
    await assertDiscoveryComplete();
  });
});
