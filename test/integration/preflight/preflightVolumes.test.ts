import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { preflightVolumes } from '../../../src/core/preflight/preflightVolumes';
import { readerPod } from '../podHelpers';
import { SandboxFixture, startSandbox } from '../sandboxFixture';

describe('preflight of volume backups (no helper mounts a volume; the image is started once per namespace)', function () {
  this.timeout(60_000);
  let sb: SandboxFixture;
  const settings = { helperImage: 'alpine:3.20', helperPod: { imagePullSecrets: ['regcred'] }, helperPodTimeoutSeconds: 20 };
  const writes = () => sb.cluster.requests.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method) && !r.path.endsWith('/selfsubjectaccessreviews') && !r.query.includes('dryRun=All'));
  /** Writes other than the image check's own pod: creating it, renewing its lease, deleting it. */
  const otherWrites = (from: number) =>
    writes()
      .slice(from)
      .filter((r) => !(r.resource === 'pods' && !r.subresource && (r.method === 'POST' ? r.path.endsWith('/pods') : /\/pods\/nkvm-probe-[a-z0-9]+$/.test(r.path))));
  const podNames = async () => (await sb.kubeConfig.makeApiClient(CoreV1Api).listPodForAllNamespaces()).items.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).sort();

  before(async () => {
    sb = await startSandbox();
    sb.cluster.seed(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'secure', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'vault', namespace: 'secure' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' } },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'solo', namespace: 'media' }, spec: { accessModes: ['ReadWriteOncePod'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' } },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'later', namespace: 'media' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'local-wait' } },
    );
    sb.cluster.seed({ apiVersion: 'v1', kind: 'Pod', ...readerPod('solo-0', 'media', 'solo') } as never);
  });
  after(async () => sb?.stop());

  it('reports a ready claim: modes, consumer and node, Pod Security level, helper user, image, pull secret, permissions and a passing dry run', async () => {
    const before = writes().length;
    const podsBefore = await podNames();
    const [report] = await preflightVolumes(sb.kubeConfig, [{ namespace: 'shop', pvc: 'data-orders-db-0' }], settings);
    assert.equal(report.verdict, 'ready', report.reasons.join('\n'));
    assert.deepEqual(report.claim.accessModes, ['ReadWriteOnce']);
    assert.equal(report.claim.phase, 'Bound');
    assert.equal(report.consumers.length, 1);
    assert.equal(report.consumers[0].pod, 'orders-db-0');
    assert.equal(report.helper.node, report.consumers[0].node);
    assert.match(report.notes.join('\n'), new RegExp(`pinned to ${report.consumers[0].node}.*Multi-Attach`));
    assert.match(report.podSecurity, /not labelled/);
    assert.equal(report.helper.runAs, 'uid 999, gid 999 (the user of pod orders-db-0)');
    assert.equal(report.helper.image, 'alpine:3.20');
    assert.deepEqual(report.helper.imagePullSecrets, ['regcred']);
    assert.ok(report.helper.tolerations.some((t) => t.key === 'dedicated'));
    assert.ok(report.permissions.length >= 8 && report.permissions.every((p) => p.allowed));
    assert.deepEqual(report.dryRun, { ok: true });
    assert.ok(report.image?.ok, JSON.stringify(report.image));
    assert.match(report.notes.join('\n'), /alpine:3\.20 starts in "shop" and has every tool the helper uses \(tar \(busybox\)/);
    assert.deepEqual(otherWrites(before), [], 'only the image check pod was written');
    assert.equal(writes().slice(before).filter((r) => r.method === 'POST').length, 1, 'one image check pod');
    assert.deepEqual(await podNames(), podsBefore, 'the image check pod is gone');
  });

  it('checks the image once per namespace, never with the claim mounted', async () => {
    const before = writes().length;
    const requestsBefore = sb.cluster.requests.length;
    const reports = await preflightVolumes(sb.kubeConfig, [{ namespace: 'shop', pvc: 'data-orders-db-0' }, { namespace: 'media', pvc: 'archive-2019' }, { namespace: 'shop', pvc: 'data-orders-db-0' }], settings);
    assert.ok(reports.every((r) => r.image?.ok), JSON.stringify(reports.map((r) => r.image)));
    const created = sb.cluster.requests.slice(requestsBefore).filter((r) => r.method === 'POST' && r.resource === 'pods' && !r.subresource && !r.query.includes('dryRun=All'));
    assert.deepEqual(created.map((r) => r.namespace).sort(), ['media', 'shop'], JSON.stringify(created));
    const events = (await sb.kubeConfig.makeApiClient(CoreV1Api).listEventForAllNamespaces()).items.filter((e) => e.involvedObject.name?.startsWith('nkvm-probe-'));
    assert.ok(events.some((e) => e.reason === 'Started'), 'the probe pods started');
    assert.deepEqual(otherWrites(before), []);
  });

  it('blocks a root helper in a restricted namespace and a ReadWriteOncePod claim in use, and notes a claim waiting for its first consumer', async () => {
    const before = writes().length;
    const reports = await preflightVolumes(
      sb.kubeConfig,
      [
        { namespace: 'secure', pvc: 'vault' },
        { namespace: 'media', pvc: 'solo' },
        { namespace: 'media', pvc: 'later' },
      ],
      { ...settings, helperPod: { runAsRoot: ['secure'] } },
    );
    const [vault, solo, later] = reports;
    assert.equal(vault.verdict, 'blocked');
    assert.equal(vault.podSecurity, 'restricted:latest');
    assert.match(vault.reasons.join('\n'), /run as root.*restricted.*nkvm\.helper\.runAsRoot/s);
    assert.equal(vault.dryRun, undefined, 'refused before the dry run');

    assert.equal(solo.verdict, 'blocked');
    assert.deepEqual(solo.consumers.map((c) => c.pod), ['solo-0']);
    assert.match(solo.reasons.join('\n'), /ReadWriteOncePod and pod solo-0 uses it/);

    assert.equal(later.verdict, 'blocked');
    assert.equal(later.claim.phase, 'Pending');
    assert.match(later.notes.join('\n'), /WaitForFirstConsumer/);
    assert.match(later.reasons.join('\n'), /not bound \(Pending\)/);
    assert.deepEqual(otherWrites(before), [], 'nothing but an image check was created, the claim stays unbound');
  });

  it('blocks when a permission is missing and when the dry run is refused, quoting the admission rule', async () => {
    sb.cluster.faults.inject({ kind: 'forbid', verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'media' });
    sb.cluster.faults.inject({ kind: 'forbid', verb: 'list', resource: 'namespaces' });
    try {
      const [archive] = await preflightVolumes(sb.kubeConfig, [{ namespace: 'media', pvc: 'archive-2019' }], settings);
      assert.equal(archive.verdict, 'blocked');
      assert.match(archive.reasons[0], /missing: create pods\/exec/);
      const [vault] = await preflightVolumes(sb.kubeConfig, [{ namespace: 'secure', pvc: 'vault' }], { ...settings, runAsRoot: true });
      assert.equal(vault.verdict, 'blocked');
      assert.match(vault.podSecurity, /unknown/);
      assert.ok(vault.dryRun && !vault.dryRun.ok);
      assert.match(vault.reasons.join('\n'), /violates PodSecurity "restricted:latest".*runAsUser=0/);
    } finally {
      sb.cluster.faults.clear();
    }
  });

  it('blocks when the nodes cannot pull the helper image, with the events, and leaves no pod behind', async () => {
    sb.cluster.faults.inject({ kind: 'imagePull', target: { namespace: 'media', pod: 'nkvm-probe-*' } });
    try {
      const podsBefore = await podNames();
      const [archive] = await preflightVolumes(sb.kubeConfig, [{ namespace: 'media', pvc: 'archive-2019' }], settings);
      assert.equal(archive.verdict, 'blocked');
      assert.ok(archive.image && !archive.image.ok);
      assert.match(archive.reasons.join('\n'), /ErrImagePull|ImagePullBackOff/);
      assert.match(archive.reasons.join('\n'), /helper image \(nkvm\.helperImage\)/);
      assert.deepEqual(await podNames(), podsBefore);
    } finally {
      sb.cluster.faults.clear();
    }
  });

  it('warns when the helper must run as nobody although a pod uses the volume', async () => {
    const [report] = await preflightVolumes(sb.kubeConfig, [{ namespace: 'analytics', pvc: 'reports' }], settings);
    assert.equal(report.verdict, 'warning');
    assert.match(report.reasons.join('\n'), /runs as uid 65534.*partial/);
  });
});
