import { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { backupVolume, BackupSettings } from '../../../src/core/backup/backupVolume';
import { runBackups } from '../../../src/core/backup/backupRun';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { types } from '../../sandbox/cluster/types';
import { archiveEntries, folderEntries } from '../treeListing';
import { SandboxFixture, startSandbox } from '../sandboxFixture';
import { readFileSync } from 'node:fs';
import { TEST_HELPER_IMAGE } from '../helperImage';

describe('backing up a volume through a helper pod', function () {
  this.timeout(60_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;
  let settings: BackupSettings;
  let runs = 0;
  const helperPods: V1Pod[] = [];

  before(async () => {
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
    sb.cluster.store.subscribe((e) => {
      if (e.resource === types.pods && e.type === 'ADDED' && e.object.metadata.labels?.['app.kubernetes.io/component'] === 'backup-helper') helperPods.push(e.object as unknown as V1Pod);
    });
  });
  beforeEach(() => {
    settings = { backupDir: join(sb.dir, `backups-${++runs}`), helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20 };
  });
  afterEach(() => sb.cluster.faults.clear());
  after(async () => sb?.stop());

  const backup = (namespace: string, pvc: string, signal?: AbortSignal) => backupVolume(sb.kubeConfig, { context: 'sandbox', namespace, pvc }, settings, 'test-run', { signal });
  const leftoverHelpers = async () => (await core.listPodForAllNamespaces({ labelSelector: 'app.kubernetes.io/component=backup-helper' })).items.map((p) => p.metadata?.name);
  const filesUnder = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name) : []);

  for (const [namespace, pvc] of [['shop', 'storefront-uploads'], ['shop', 'data-orders-db-0'], ['analytics', 'reports'], ['media', 'archive-2019']]) {
    it(`${namespace}/${pvc}: a gzip tar whose listing equals the volume and whose sha256sum is the recorded checksum`, async () => {
      const result = await backup(namespace, pvc);
      assert.equal(result.status, 'success', result.message);
      assert.ok(result.archivePath && existsSync(result.archivePath));
      assert.match(result.archivePath, new RegExp(`/sandbox/${namespace}/${pvc}/${pvc}-\\d{8}T\\d{9}Z\\.tar\\.gz$`));
      const bytes = readFileSync(result.archivePath);
      assert.deepEqual(archiveEntries(bytes), folderEntries(sb.cluster.volumePath(namespace, pvc)).map((e) => `./${e.slice(2)}`));
      assert.equal(execFileSync('sha256sum', [result.archivePath], { encoding: 'utf8' }).split(' ')[0], result.checksum);
      assert.equal(result.sizeBytes, bytes.length);
      assert.deepEqual(await leftoverHelpers(), []);
    });
  }

  it('pins the helper to the node of the pod using a ReadWriteOnce claim, with its tolerations and user, read-only and locked down', async () => {
    const before = helperPods.length;
    // Read live: a snapshot's temporary claim has no node to pin to.
    const result = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'shop', pvc: 'data-orders-db-0' }, { ...settings, consistency: 'live' }, 'test-run');
    assert.equal(result.status, 'success', result.message);
    const helper = helperPods[before];
    const consumer = await core.readNamespacedPod({ name: 'orders-db-0', namespace: 'shop' });
    assert.deepEqual(helper.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0].matchExpressions?.[0], { key: 'kubernetes.io/hostname', operator: 'In', values: [consumer.spec!.nodeName!] });
    assert.deepEqual(helper.spec?.tolerations, JSON.parse(JSON.stringify(consumer.spec?.tolerations)));
    assert.equal(helper.spec?.securityContext?.runAsUser, 999);
    assert.equal(helper.spec?.securityContext?.fsGroup, undefined);
    assert.equal(helper.spec?.automountServiceAccountToken, false);
    assert.ok(helper.spec?.activeDeadlineSeconds && helper.spec.activeDeadlineSeconds > 0);
    const c = helper.spec!.containers[0];
    assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL']);
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
    assert.ok(c.resources?.limits && c.resources.requests);
    assert.equal(c.volumeMounts?.find((m) => m.mountPath === '/data')?.readOnly, true);
    assert.equal(helper.spec?.volumes?.find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim?.readOnly, true);
    assert.equal(helper.metadata?.labels?.['nkvm.dev/run-id'], 'test-run');
    assert.equal(helper.metadata?.labels?.['nkvm.dev/pvc'], 'data-orders-db-0');
  });

  it('marks a backup partial when tar cannot read some files, naming them, and keeps the archive', async () => {
    const secret = join(sb.cluster.volumePath('shop', 'data-orders-db-0'), 'pgdata', 'root-only.key');
    execFileSync('sh', ['-c', `echo secret > '${secret}' && chmod 600 '${secret}'`]);
    try {
      const result = await backup('shop', 'data-orders-db-0');
      assert.equal(result.status, 'partial', result.message);
      assert.match(result.message, /root-only\.key/);
      assert.ok(result.warnings.some((w) => w.includes('root-only.key')));
      assert.ok(existsSync(result.archivePath!));
      assert.equal(execFileSync('sha256sum', [result.archivePath!], { encoding: 'utf8' }).split(' ')[0], result.checksum);
    } finally {
      execFileSync('rm', ['-f', secret]);
    }
  });

  const expectFailure = async (stage: string, message: RegExp, nextStep: RegExp, run: () => ReturnType<typeof backup> = () => backup('media', 'archive-2019')) => {
    const result = await run();
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, stage, result.message);
    assert.match(result.message, new RegExp(`^${stage} stage failed: `));
    assert.match(result.message, message);
    assert.match(result.nextStep ?? '', nextStep);
    assert.deepEqual(filesUnder(settings.backupDir), [], 'no archive and no partial file');
    assert.deepEqual(await leftoverHelpers(), [], 'no helper pod');
    return result;
  };

  it('rides out 429 and 503 bursts on the claim, the helper pod and its delete, and leaves no pod', async () => {
    const prefix = '/api/v1/namespaces/media/';
    sb.cluster.faults.inject({ kind: 'httpError', status: 503, count: 2, method: 'GET', pathPrefix: `${prefix}persistentvolumeclaims/archive-2019` });
    sb.cluster.faults.inject({ kind: 'httpError', status: 429, count: 2, retryAfterSeconds: 1, method: 'GET', pathPrefix: `${prefix}pods/nkvm-backup-` });
    sb.cluster.faults.inject({ kind: 'httpError', status: 500, count: 1, method: 'DELETE', pathPrefix: `${prefix}pods/nkvm-backup-` });
    const result = await backup('media', 'archive-2019');
    assert.equal(result.status, 'success', result.message);
    const refused = sb.cluster.requests.filter((r) => r.path.startsWith(prefix) && [429, 500, 503].includes(r.status));
    assert.deepEqual(refused.map((r) => r.status).sort(), [429, 429, 500, 503, 503]);
    assert.deepEqual(await leftoverHelpers(), []);
  });

  it('create stage: a forbidden pod create names the permission and the RoleBinding to apply', async () => {
    sb.cluster.faults.inject({ kind: 'forbid', verb: 'create', resource: 'pods', namespace: 'media' });
    await expectFailure('create', /cannot create resource "pods"/, /nkvm-runtime/);
  });

  it('create stage: a missing claim is named', async () => {
    await expectFailure('create', /PersistentVolumeClaim "ghost" was not found in namespace "media"/, /Refresh/, () => backup('media', 'ghost'));
  });

  it('wait stage: an image that cannot be pulled fails fast, quoting the pod events', async () => {
    sb.cluster.faults.inject({ kind: 'imagePull', target: { namespace: 'media', pod: 'nkvm-backup-*' } });
    await expectFailure('wait', /ErrImagePull|ImagePullBackOff/, /helper image/);
  });

  it('wait stage: an unschedulable helper fails fast with the scheduler’s reason', async () => {
    sb.cluster.faults.inject({ kind: 'unschedulable', target: { namespace: 'media', pod: 'nkvm-backup-*' } });
    await expectFailure('wait', /cannot be scheduled: 0\/3 nodes are available/, /describe pod/);
  });

  it('exec stage: a forbidden exec says which permission is missing', async () => {
    sb.cluster.faults.inject({ kind: 'forbid', verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'media' });
    await expectFailure('exec', /refused to run tar.*forbidden/, /pods\/exec/);
  });

  it('exec stage: tar failing with exit code 2 is a failure', async () => {
    sb.cluster.faults.inject({ kind: 'execExitCode', target: { namespace: 'media', pod: 'nkvm-backup-*' }, code: 2 });
    await expectFailure('exec', /tar in the helper pod exited with code 2/, /sh and tar/);
  });

  it('copy stage: a stream cut mid-way leaves no archive', async () => {
    sb.cluster.faults.inject({ kind: 'execCut', target: { namespace: 'media', pod: 'nkvm-backup-*' }, afterBytes: 50_000 });
    await expectFailure('copy', /stream broke after \d+ bytes/, /connection to the API server/);
  });

  it('copy stage: a backup folder that cannot be created fails before any pod is made', async () => {
    settings.backupDir = '/dev/null/backups';
    const before = helperPods.length;
    await expectFailure('copy', /cannot write to the backup folder \/dev\/null\/backups/, /writable backup folder/);
    assert.equal(helperPods.length, before);
  });

  it('copy stage: a full disk stops the stream, and nothing is left in the backup folder', async function () {
    if (process.getuid?.() !== 0) this.skip(); // mounting a small tmpfs needs root
    const small = join(sb.dir, `full-${runs}`);
    execFileSync('mkdir', ['-p', small]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]);
    try {
      settings.backupDir = join(small, 'backups');
      const result = await expectFailure('copy', /could not write the archive .*ENOSPC|no space left/i, /free space/, () => backup('shop', 'data-orders-db-0'));
      assert.ok(result.message.includes('.partial'));
    } finally {
      execFileSync('umount', [small]);
    }
  });

  it('checksum stage: a byte flipped in transit is caught and the archive is not kept', async () => {
    sb.cluster.faults.inject({ kind: 'execCorrupt', target: { namespace: 'media', pod: 'nkvm-backup-*' }, byteOffset: 1000 });
    await expectFailure('checksum', /differs from what the pod sent/, /run the backup again/);
  });

  it('cleanup stage: a helper that cannot be deleted is reported without hiding the successful backup', async () => {
    sb.cluster.faults.inject({ kind: 'forbid', verb: 'delete', resource: 'pods', namespace: 'media' });
    const result = await backup('media', 'archive-2019');
    assert.equal(result.status, 'success');
    assert.match(result.message, /cleanup stage failed: could not delete the helper pod/);
    assert.match(result.nextStep ?? '', /delete pod nkvm-backup-/);
    assert.ok(existsSync(result.archivePath!));
    sb.cluster.faults.clear();
    await core.deleteNamespacedPod({ name: result.helperPod!, namespace: 'media', gracePeriodSeconds: 0 });
  });

  it('cancellation mid-stream deletes the helper pod, removes the partial file and reports cancelled', async () => {
    const root = sb.cluster.volumePath('media', 'archive-2019');
    execFileSync('sh', ['-c', `head -c 40000000 /dev/urandom > '${root}/big.bin'`]);
    try {
      const controller = new AbortController();
      const done = backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'media', pvc: 'archive-2019' }, settings, 'cancel-run', {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.stage === 'copy' && p.bytes > 0) controller.abort();
        },
      });
      const result = await done;
      assert.equal(result.status, 'cancelled');
      assert.equal(result.stage, 'copy');
      assert.deepEqual(filesUnder(settings.backupDir), []);
      assert.deepEqual(await leftoverHelpers(), []);
    } finally {
      execFileSync('rm', ['-f', `${root}/big.bin`]);
    }
  });

  it('records a batch cancelled mid-stream as cancelled in the history, with no archive and no pod', async () => {
    const root = sb.cluster.volumePath('media', 'archive-2019');
    execFileSync('sh', ['-c', `head -c 40000000 /dev/urandom > '${root}/big.bin'`]);
    const history = await HistoryStore.open(join(sb.dir, `history-cancel-${runs}.db`));
    try {
      const controller = new AbortController();
      const run = await runBackups([{ context: 'sandbox', namespace: 'media', pvc: 'archive-2019' }], {
        kubeConfigFor: () => sb.kubeConfig,
        settings,
        concurrency: 1,
        history,
        signal: controller.signal,
        onProgress: (p) => p.stage === 'copy' && p.bytes > 0 && controller.abort(),
      });
      assert.equal(run.results[0].status, 'cancelled');
      const [row] = await history.byRun(run.runId);
      assert.equal(row.status, 'cancelled');
      assert.equal(row.backupPath, null);
      assert.deepEqual(filesUnder(settings.backupDir), []);
      assert.deepEqual(await leftoverHelpers(), []);
    } finally {
      await history.close();
      execFileSync('rm', ['-f', `${root}/big.bin`]);
    }
  });

  it('runs a batch with a concurrency limit, records every volume in the history, and one failure does not stop the others', async () => {
    const history = await HistoryStore.open(join(sb.dir, `history-${runs}.db`));
    sb.cluster.faults.inject({ kind: 'forbid', verb: 'create', resource: 'pods', namespace: 'analytics' });
    const run = await runBackups(
      [
        { context: 'sandbox', namespace: 'shop', pvc: 'storefront-uploads' },
        { context: 'sandbox', namespace: 'analytics', pvc: 'reports' },
        { context: 'sandbox', namespace: 'media', pvc: 'archive-2019' },
      ],
      { kubeConfigFor: () => sb.kubeConfig, settings, concurrency: 2, history },
    );
    assert.deepEqual(run.results.map((r) => r.status), ['success', 'failed', 'success']);
    const rows = await history.byRun(run.runId);
    assert.equal(rows.length, 3);
    assert.deepEqual(rows.map((r) => `${r.namespace}/${r.pvcName}:${r.status}`).sort(), ['analytics/reports:failed', 'media/archive-2019:success', 'shop/storefront-uploads:success']);
    const ok = rows.find((r) => r.pvcName === 'archive-2019')!;
    assert.equal(ok.checksum, run.results[2].checksum);
    assert.equal(ok.backupPath, run.results[2].archivePath);
    const sql = execFileSync('sqlite3', [history.filePath, 'SELECT namespace,pvc_name,status,created_at,backup_path FROM backup_history ORDER BY created_at DESC, id DESC LIMIT 20;'], { encoding: 'utf8' });
    assert.match(sql, /media\|archive-2019\|success\|\d{4}-\d\d-\d\dT[\d:.]+Z\|\/.*\.tar\.gz/);
    await history.close();
  });
});
