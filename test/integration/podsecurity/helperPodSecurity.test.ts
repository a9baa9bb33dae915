import { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backupVolume, BackupSettings } from '../../../src/core/backup/backupVolume';
import { DEFAULT_HELPER_UID } from '../../../src/core/backup/helperIdentity';
import { deleteHelperPods, findOrphanHelpers } from '../../../src/core/backup/leftoverHelpers';
import { types } from '../../sandbox/cluster/types';
import { readerPod } from '../podHelpers';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

const restrictedContainer = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
const restrictedPod = { runAsNonRoot: true, runAsUser: 1001, runAsGroup: 1001, seccompProfile: { type: 'RuntimeDefault' } };

describe('helper pods under Pod Security admission', function () {
  this.timeout(60_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;
  let settings: BackupSettings;
  let runs = 0;
  const helperPods: V1Pod[] = [];

  const claim = (namespace: string, name: string, accessModes: string[]) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace }, spec: { accessModes, resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' } });
  const namespace = (name: string, level: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': level } } });
  const writeFiles = (ns: string, pvc: string, files: Record<string, string>) => {
    for (const [rel, text] of Object.entries(files)) {
      const path = join(sb.cluster.volumePath(ns, pvc), rel);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, text);
    }
  };
  const backup = (ns: string, pvc: string, runAsRoot?: boolean) => backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: ns, pvc }, settings, 'psa-run', { runAsRoot });
  // Read live: the helper then mounts the claim itself, where its workload runs.
  const backupLive = (ns: string, pvc: string) => backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: ns, pvc }, { ...settings, consistency: 'live' }, 'psa-run');
  const podPosts = (ns: string) => sb.cluster.requests.filter((r) => r.method === 'POST' && r.path === `/api/v1/namespaces/${ns}/pods`);
  const leftovers = async (ns: string) => (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app.kubernetes.io/component=backup-helper' })).items.map((p) => p.metadata!.name);

  before(async () => {
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
    sb.cluster.store.subscribe((e) => {
      if (e.resource === types.pods && e.type === 'ADDED' && e.object.metadata.labels?.['app.kubernetes.io/component'] === 'backup-helper') helperPods.push(e.object as unknown as V1Pod);
    });
    sb.cluster.seed(namespace('secure', 'restricted'), namespace('legacy', 'baseline'));
    sb.cluster.seed(claim('secure', 'vault', ['ReadWriteOnce']), claim('secure', 'app-data', ['ReadWriteOnce']), claim('legacy', 'mail', ['ReadWriteOnce']), claim('secure', 'solo', ['ReadWriteOncePod']));
    writeFiles('secure', 'vault', { 'notes/readme.txt': 'everyone may read this\n' });
    writeFiles('secure', 'app-data', { 'db/state.json': '{"ok":true}\n' });
    writeFiles('legacy', 'mail', { 'inbox/1.eml': 'Subject: hi\n' });
    const appPod = readerPod('app-0', 'secure', 'app-data', { securityContext: restrictedPod });
    appPod.spec!.containers[0].securityContext = restrictedContainer;
    const soloPod = readerPod('solo-0', 'secure', 'solo', { securityContext: restrictedPod });
    soloPod.spec!.containers[0].securityContext = restrictedContainer;
    sb.cluster.seed({ apiVersion: 'v1', kind: 'Pod', ...appPod } as never, { apiVersion: 'v1', kind: 'Pod', ...soloPod } as never);
  });
  beforeEach(() => {
    settings = { backupDir: join(sb.dir, `backups-${++runs}`), helperImage: 'alpine:3.20', helperPodTimeoutSeconds: 20 };
  });
  afterEach(() => sb.cluster.faults.clear());
  after(async () => sb?.stop());

  it('refuses a plain pod in a restricted namespace with the admission plugin’s 403 and message', async () => {
    await assert.rejects(core.createNamespacedPod({ namespace: 'secure', body: readerPod('plain', 'secure', 'vault') }), (e: { code?: number; body?: string }) => {
      assert.equal(e.code, 403);
      const status = JSON.parse(String(e.body));
      assert.equal(status.reason, 'Forbidden');
      assert.deepEqual(status.details, { name: 'plain', kind: 'pods' });
      assert.equal(
        status.message,
        'pods "plain" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "main" must set securityContext.allowPrivilegeEscalation=false), ' +
          'unrestricted capabilities (container "main" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "main" must set securityContext.runAsNonRoot=true), ' +
          'seccompProfile (pod or container "main" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
      );
      return true;
    });
    const dryRun = await core.createNamespacedPod({ namespace: 'legacy', body: readerPod('dry', 'legacy', 'mail'), dryRun: 'All' });
    assert.equal(dryRun.metadata?.name, 'dry');
    await assert.rejects(core.readNamespacedPod({ namespace: 'legacy', name: 'dry' }), (e: { code?: number }) => e.code === 404);
  });

  it('restricted namespace: the helper runs as a non-root user and the backup succeeds', async () => {
    const before = helperPods.length;
    const result = await backup('secure', 'vault');
    assert.equal(result.status, 'success', result.message);
    const helper = helperPods[before];
    assert.equal(helper.spec?.securityContext?.runAsNonRoot, true);
    assert.equal(helper.spec?.securityContext?.runAsUser, DEFAULT_HELPER_UID);
    assert.equal(helper.spec?.securityContext?.seccompProfile?.type, 'RuntimeDefault');
    assert.ok(podPosts('secure').some((r) => r.query.includes('dryRun=All')), 'the helper was dry-run first');
    assert.deepEqual(await leftovers('secure'), []);
  });

  it('restricted namespace: the helper takes the user of the pod that mounts the volume', async () => {
    const before = helperPods.length;
    const result = await backup('secure', 'app-data');
    assert.equal(result.status, 'success', result.message);
    assert.equal(helperPods[before].spec?.securityContext?.runAsUser, 1001);
    assert.equal(helperPods[before].spec?.securityContext?.runAsGroup, 1001);
  });

  it('restricted namespace: running as root is refused before any pod is sent, with the next step', async () => {
    const posts = podPosts('secure').length;
    const result = await backup('secure', 'vault', true);
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'create');
    assert.match(result.message, /run as root.*enforces Pod Security "restricted:latest"/);
    assert.match(result.nextStep ?? '', /nkvm\.helper\.runAsRoot/);
    assert.equal(podPosts('secure').length, posts, 'no pod create, not even a dry run');
    assert.deepEqual(readdirSync(settings.backupDir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()), [], 'no archive and no partial file');
  });

  it('a dry-run refusal fails the create stage naming the violated rules and the fix, and creates nothing', async () => {
    // Without the namespace's labels the engine cannot refuse up front; the dry run still does.
    sb.cluster.faults.inject({ kind: 'forbid', verb: 'list', resource: 'namespaces' });
    const before = helperPods.length;
    const result = await backup('secure', 'vault', true);
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'create');
    assert.match(result.message, /Pod Security admission refused the helper pod in "secure": violates PodSecurity "restricted:latest": .*runAsNonRoot != true.*runAsUser=0 \(pod must not set runAsUser=0\)/);
    assert.match(result.nextStep ?? '', /remove "secure" from nkvm\.helper\.runAsRoot/);
    assert.equal(helperPods.length, before, 'nothing was stored');
    assert.deepEqual(await leftovers('secure'), []);
  });

  it('baseline namespace: root is allowed when chosen, and reads files only their owner may read', async () => {
    const secret = join(sb.cluster.volumePath('legacy', 'mail'), 'inbox', 'private.eml');
    execFileSync('sh', ['-c', `echo private > '${secret}' && chown 4242:4242 '${secret}' && chmod 600 '${secret}'`]);
    try {
      const asUser = await backup('legacy', 'mail');
      assert.equal(asUser.status, 'partial', asUser.message);
      assert.match(asUser.message, /1 unreadable file: inbox\/private\.eml \(not readable by the helper running as uid 65534/);
      assert.ok(asUser.warnings.some((w) => w.includes('private.eml')));
      assert.match(asUser.nextStep ?? '', /runAsRoot/);
      assert.ok(existsSync(asUser.archivePath!), 'a partial archive is kept');

      settings.helperPod = { runAsRoot: ['legacy'] };
      const before = helperPods.length;
      const asRoot = await backup('legacy', 'mail');
      assert.equal(asRoot.status, 'success', asRoot.message);
      const helper = helperPods[before];
      assert.equal(helper.spec?.securityContext?.runAsUser, 0);
      assert.deepEqual(helper.spec?.containers[0].securityContext?.capabilities, { drop: ['ALL'], add: ['DAC_OVERRIDE'] });
      const listing = execFileSync('tar', ['tzf', asRoot.archivePath!], { encoding: 'utf8' });
      assert.match(listing, /inbox\/private\.eml/);
    } finally {
      execFileSync('rm', ['-f', secret]);
    }
  });

  it('passes pull secrets, resources, extra tolerations and a node selector to the helper', async () => {
    settings.helperPod = {
      imagePullSecrets: ['regcred'],
      resources: { limits: { memory: '512Mi' } },
      tolerations: [{ key: 'backup', operator: 'Exists', effect: 'NoSchedule' }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
    };
    const before = helperPods.length;
    const result = await backupLive('shop', 'data-orders-db-0');
    assert.equal(result.status, 'success', result.message);
    const helper = helperPods[before];
    const consumer = await core.readNamespacedPod({ name: 'orders-db-0', namespace: 'shop' });
    assert.deepEqual(helper.spec?.imagePullSecrets, [{ name: 'regcred' }]);
    assert.deepEqual(helper.spec?.containers[0].resources, { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '2', memory: '512Mi' } });
    assert.deepEqual(helper.spec?.nodeSelector, { 'kubernetes.io/os': 'linux' });
    assert.deepEqual(helper.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0].matchExpressions?.[0].values, [consumer.spec!.nodeName]);
    assert.deepEqual(helper.spec?.tolerations, [...JSON.parse(JSON.stringify(consumer.spec!.tolerations)), { key: 'backup', operator: 'Exists', effect: 'NoSchedule' }]);
    const ran = await eventuallyNode(helper.metadata!.name!);
    assert.equal(ran, consumer.spec!.nodeName, 'the helper ran on the node that has the ReadWriteOnce volume attached');
  });

  it('refuses to read a ReadWriteOncePod volume in use live, naming the pod, before any pod is sent; a snapshot reads it', async () => {
    const posts = podPosts('secure').length;
    const result = await backupLive('secure', 'solo');
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'create');
    assert.match(result.message, /"solo" is ReadWriteOncePod and pod solo-0 uses it/);
    assert.match(result.nextStep ?? '', /Scale solo-0/);
    assert.equal(podPosts('secure').length, posts);
    // The helper mounts a claim made from a snapshot, never the one solo-0 holds.
    const snapshot = await backup('secure', 'solo');
    assert.equal(snapshot.status, 'success', `${snapshot.stage}: ${snapshot.message}`);
    assert.equal(snapshot.consistency, 'snapshot');
  });

  it('finds helpers past their deadline or finished, and removes them through the leftover path', async () => {
    const helper = (name: string, ns: string, pvc: string, deadline: number): V1Pod => {
      const pod = readerPod(name, ns, pvc, { activeDeadlineSeconds: deadline });
      pod.metadata!.labels = { 'app.kubernetes.io/component': 'backup-helper' };
      pod.metadata!.annotations = { 'nkvm.dev/pvc': pvc };
      return pod;
    };
    sb.cluster.seed({ apiVersion: 'v1', kind: 'Pod', ...helper('nkvm-backup-expired', 'media', 'archive-2019', 1) } as never, { apiVersion: 'v1', kind: 'Pod', ...helper('nkvm-backup-live', 'analytics', 'reports', 3600) } as never);
    await eventually('the expired helper to fail', async () => (await core.readNamespacedPod({ namespace: 'media', name: 'nkvm-backup-expired' })).status?.phase === 'Failed', 10_000);
    const orphans = await findOrphanHelpers(sb.kubeConfig, { namespaces: ['media'] });
    assert.deepEqual(orphans.map((o) => o.name), ['nkvm-backup-expired']);
    assert.match(orphans[0].reason, /ended \(Failed, DeadlineExceeded\)/);
    const later = await findOrphanHelpers(sb.kubeConfig, { now: Date.now() + 2 * 3600_000 });
    assert.deepEqual(later.map((o) => `${o.namespace}/${o.name}`).sort(), ['analytics/nkvm-backup-live', 'media/nkvm-backup-expired']);
    assert.match(later.find((o) => o.name === 'nkvm-backup-live')!.reason, /past its 3600 s deadline/);
    assert.deepEqual(await deleteHelperPods(sb.kubeConfig, later), []);
    assert.deepEqual([...(await leftovers('media')), ...(await leftovers('analytics'))], []);
  });

  async function eventuallyNode(name: string): Promise<string | undefined> {
    // The helper is deleted at the end of the backup; its Scheduled event stays and names the node.
    const events = await core.listNamespacedEvent({ namespace: 'shop', fieldSelector: `involvedObject.name=${name}` });
    return /to (\S+)$/.exec(events.items.find((e) => e.reason === 'Scheduled')?.message ?? '')?.[1];
  }
});
