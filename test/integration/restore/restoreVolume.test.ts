import { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { backupVolume, BackupSettings } from '../../../src/core/backup/backupVolume';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { runRestore } from '../../../src/core/restore/restoreRun';
import { describeRestoreTarget } from '../../../src/core/restore/restoreTarget';
import { RestoreRequest, RestoreSettings, restoreVolume } from '../../../src/core/restore/restoreVolume';
import { SandboxFixture, startSandbox } from '../sandboxFixture';
import { archiveTree } from './archiveTree';
import { boundClaim, folderListing, leftoverHelpers, seedTree, watchHelperPods } from './restoreFixture';
import { TEST_HELPER_IMAGE } from '../helperImage';

describe('restoring an archive into a volume through a helper pod', function () {
  this.timeout(240_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;
  let helpers: Map<string, V1Pod>;
  let backupSettings: BackupSettings;
  const settings: RestoreSettings = { helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20 };
  /** A backup of a seeded tree (without the big file), shared by the tests that only need some archive. */
  let smallArchive: { path: string; sha256: string };

  before(async () => {
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
    helpers = watchHelperPods(sb);
    backupSettings = { backupDir: join(sb.dir, 'backups'), helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20 };
    seedTree(await boundClaim(sb, 'media', 'small-src'));
    const backup = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'media', pvc: 'small-src' }, backupSettings, 'seed');
    assert.equal(backup.status, 'success', backup.message);
    smallArchive = { path: backup.archivePath!, sha256: backup.checksum! };
  });
  afterEach(async () => {
    sb.cluster.faults.clear();
    assert.deepEqual(await leftoverHelpers(core), [], 'no helper pod is left behind');
  });
  after(async () => sb?.stop());

  const restore = (request: Omit<RestoreRequest, 'target'> & { target: { namespace: string; pvc: string } }, options: Parameters<typeof restoreVolume>[4] = {}) =>
    restoreVolume(sb.kubeConfig, { ...request, target: { context: 'sandbox', ...request.target } }, settings, 'restore-test', options);
  const claimExists = async (namespace: string, name: string) => (await core.listNamespacedPersistentVolumeClaim({ namespace })).items.some((c) => c.metadata?.name === name);

  it('round trip: a backup restored into a new claim backs up to the same tree (modes, links, empty folders, names, a 200 MB file), and the restore is in the history', async () => {
    seedTree(await boundClaim(sb, 'analytics', 'roundtrip-src'), 200 * 1024 * 1024);
    const first = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'analytics', pvc: 'roundtrip-src' }, backupSettings, 'rt-1');
    assert.equal(first.status, 'success', first.message);

    const history = await HistoryStore.open(join(sb.dir, 'history-roundtrip.db'));
    try {
      // WaitForFirstConsumer: the new claim binds only when the helper is scheduled.
      const stages: string[] = [];
      const result = await runRestore(
        sb.kubeConfig,
        { archivePath: first.archivePath!, expectedSha256: first.checksum, target: { context: 'sandbox', namespace: 'analytics', pvc: 'roundtrip-copy' }, createClaim: { storage: '2Gi', storageClassName: 'local-wait' } },
        { settings, history, onProgress: (p) => stages.at(-1) !== p.stage && stages.push(p.stage) },
      );
      assert.equal(result.status, 'success', `${result.message} / ${result.nextStep}`);
      assert.deepEqual(stages, ['create', 'wait', 'upload', 'verify']);
      assert.equal(result.claimCreated, true);
      assert.ok(result.files! >= 9 && result.bytes! > 200 * 1024 * 1024, result.message);

      const claim = await core.readNamespacedPersistentVolumeClaim({ namespace: 'analytics', name: 'roundtrip-copy' });
      assert.equal(claim.spec?.storageClassName, 'local-wait');
      assert.equal(claim.spec?.resources?.requests?.storage, '2Gi');
      assert.equal(claim.status?.phase, 'Bound');

      const second = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'analytics', pvc: 'roundtrip-copy' }, backupSettings, 'rt-2');
      assert.equal(second.status, 'success', second.message);
      const [before, after] = [await archiveTree(first.archivePath!), await archiveTree(second.archivePath!)];
      assert.ok(before.some((l) => l.startsWith('big.bin file 0644 209715200 ')));
      assert.ok(before.some((l) => l === 'cache/empty directory 0755'));
      assert.ok(before.some((l) => l.startsWith('docs/private.key file 0600 ')));
      assert.deepEqual(after, before);

      const [row] = await history.latest({ operation: 'restore' });
      assert.equal(row.status, 'success');
      assert.equal(row.pvcName, 'roundtrip-copy');
      assert.equal(row.backupPath, first.archivePath);
      assert.equal(row.checksum, first.checksum);
    } finally {
      await history.close();
    }
  });

  it('emptyFirst replaces the contents of an existing claim (dotfiles too); without it, existing files stay', async () => {
    const root = await boundClaim(sb, 'media', 'overwrite');
    execFileSync('sh', ['-c', 'mkdir -p stale-dir && echo old > stale.txt && echo old > .stale-dot && echo old > stale-dir/f && echo old > docs-not-in-archive && chown -R 65534:65534 .'], { cwd: root });
    const kept = await restore({ archivePath: smallArchive.path, target: { namespace: 'media', pvc: 'overwrite' } });
    assert.equal(kept.status, 'success', kept.message);
    const merged = folderListing(root);
    for (const stale of ['stale.txt f', '.stale-dot f', 'stale-dir/f f', 'docs/readme.txt f', 'latest l']) assert.ok(merged.includes(stale), `${stale} in ${merged.join(', ')}`);

    const replaced = await restore({ archivePath: smallArchive.path, target: { namespace: 'media', pvc: 'overwrite' }, emptyFirst: true });
    assert.equal(replaced.status, 'success', replaced.message);
    const source = folderListing(sb.cluster.volumePath('media', 'small-src'));
    assert.deepEqual(folderListing(root), source);
    assert.equal(replaced.files, source.filter((l) => l.endsWith(' f')).length);
  });

  it('restores the plain .tar of a backup made without compression, and the volume equals the source', async () => {
    const plain = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'media', pvc: 'small-src' }, { ...backupSettings, compression: 'none' }, 'seed-plain');
    assert.equal(plain.status, 'success', plain.message);
    assert.match(plain.archivePath!, /\.tar$/);
    const root = await boundClaim(sb, 'media', 'from-plain');
    const result = await restore({ archivePath: plain.archivePath!, expectedSha256: plain.checksum, target: { namespace: 'media', pvc: 'from-plain' } });
    assert.equal(result.status, 'success', result.message);
    assert.deepEqual(folderListing(root), folderListing(sb.cluster.volumePath('media', 'small-src')));
  });

  it('paths restores only the selected files and folders', async () => {
    const root = await boundClaim(sb, 'media', 'selected');
    const result = await restore({ archivePath: smallArchive.path, target: { namespace: 'media', pvc: 'selected' }, paths: ['docs/nested', 'Ünïcødé 名前/résumé ✓.txt', './latest'] });
    assert.equal(result.status, 'success', result.message);
    assert.deepEqual(folderListing(root), ['docs d', 'docs/nested d', 'docs/nested/deep.txt f', 'latest l', 'Ünïcødé 名前 d', 'Ünïcødé 名前/résumé ✓.txt f'].sort());
    assert.equal(result.files, 2);
  });

  it('a path the archive does not hold is refused before any pod is made', async () => {
    const before = helpers.size;
    const result = await restore({ archivePath: smallArchive.path, target: { namespace: 'media', pvc: 'small-src' }, paths: ['docs', 'nope/missing.txt'] });
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'create');
    assert.match(result.message, /nothing at "nope\/missing.txt"/);
    assert.equal(helpers.size, before);
  });

  it('a ReadWriteOnce claim used by a running pod is refused with the next step; allowInUseOnNode runs the helper on that node with its tolerations', async () => {
    await boundClaim(sb, 'shop', 'busy');
    const consumer: V1Pod = {
      metadata: { name: 'busy-app', namespace: 'shop' },
      spec: {
        tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'storage', effect: 'NoSchedule' }],
        nodeSelector: { 'kubernetes.io/hostname': 'node-c' },
        containers: [{ name: 'main', image: 'alpine:3.20', command: ['sleep', 'infinity'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'busy' } }],
      },
    };
    await core.createNamespacedPod({ namespace: 'shop', body: consumer });
    const running = async () => (await core.readNamespacedPod({ namespace: 'shop', name: 'busy-app' })).status?.phase === 'Running';
    for (let i = 0; i < 200 && !(await running()); i++) await new Promise((r) => setTimeout(r, 25));

    const info = await describeRestoreTarget(sb.kubeConfig, 'shop', 'busy');
    assert.equal(info.exists, true);
    assert.deepEqual(info.accessModes, ['ReadWriteOnce']);
    assert.deepEqual(info.usedBy.map((u) => `${u.pod}@${u.node}`), ['busy-app@node-c']);
    assert.deepEqual(info.inUseOnNode, { pod: 'busy-app', node: 'node-c', readWriteOncePod: false });

    const before = helpers.size;
    const refused = await restore({ archivePath: smallArchive.path, target: { namespace: 'shop', pvc: 'busy' } });
    assert.equal(refused.status, 'failed');
    assert.equal(refused.stage, 'create');
    assert.match(refused.message, /ReadWriteOnce and mounted by the running pod busy-app on node node-c/);
    assert.match(refused.nextStep ?? '', /Scale busy-app's workload down.*new claim.*allowInUseOnNode/);
    assert.equal(helpers.size, before, 'no helper pod was made');

    const allowed = await restore({ archivePath: smallArchive.path, target: { namespace: 'shop', pvc: 'busy' }, allowInUseOnNode: true });
    assert.equal(allowed.status, 'success', allowed.message);
    const helper = helpers.get(allowed.helperPod!)!;
    assert.match(helper.metadata!.name!, /^nkvm-restore-busy-/);
    assert.equal(helper.spec?.nodeName, 'node-c');
    assert.deepEqual(helper.spec?.tolerations?.filter((t) => t.key === 'dedicated'), consumer.spec!.tolerations);
    assert.equal(helper.spec?.volumes?.find((v) => v.persistentVolumeClaim)?.persistentVolumeClaim?.readOnly, undefined);
    assert.equal(helper.spec?.containers[0].volumeMounts?.find((m) => m.mountPath === '/data')?.readOnly, undefined);
    assert.match(helper.metadata?.annotations?.['nkvm.dev/purpose'] ?? '', /writes the volume for a restore/i);
    assert.deepEqual(folderListing(sb.cluster.volumePath('shop', 'busy')), folderListing(sb.cluster.volumePath('media', 'small-src')));
    await core.deleteNamespacedPod({ namespace: 'shop', name: 'busy-app', gracePeriodSeconds: 0 });
  });

  it('a server that speaks only v4.channel.k8s.io fails the upload stage at once with the reason, and leaves no pod', async () => {
    sb.cluster.faults.inject({ kind: 'execProtocols', protocols: ['v4.channel.k8s.io'] });
    const started = Date.now();
    const result = await restore({ archivePath: smallArchive.path, target: { namespace: 'media', pvc: 'small-src' } });
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'upload');
    assert.match(result.message, /^upload stage failed: the API server speaks v4\.channel\.k8s\.io, which cannot signal the end of input/);
    assert.ok(Date.now() - started < 15_000, 'no hang');
  });

  it('cancelling mid-upload deletes the helper pod and the claim it created, and reports cancelled', async () => {
    const root = await boundClaim(sb, 'media', 'big-src');
    execFileSync('sh', ['-c', 'head -c 60000000 /dev/urandom > big.bin && chown 65534:65534 big.bin'], { cwd: root });
    const big = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'media', pvc: 'big-src' }, backupSettings, 'big');
    assert.equal(big.status, 'success', big.message);
    const controller = new AbortController();
    const result = await restore(
      { archivePath: big.archivePath!, target: { namespace: 'media', pvc: 'big-copy' }, createClaim: {} },
      { signal: controller.signal, onProgress: (p) => p.stage === 'upload' && p.bytes > 0 && controller.abort() },
    );
    assert.equal(result.status, 'cancelled', result.message);
    assert.equal(result.stage, 'upload');
    assert.equal(await claimExists('media', 'big-copy'), false, 'the new claim is deleted again');
  });

  it('an archive whose sha256 differs from the recorded one is refused before anything is created', async () => {
    const tampered = join(sb.dir, 'tampered.tar.gz');
    copyFileSync(smallArchive.path, tampered);
    const fd = openSync(tampered, 'r+');
    writeSync(fd, Buffer.from([0x42]), 0, 1, 200);
    closeSync(fd);
    const before = helpers.size;
    const result = await restore({ archivePath: tampered, expectedSha256: smallArchive.sha256, target: { namespace: 'media', pvc: 'tampered-copy' }, createClaim: { storage: '1Gi' } });
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'create');
    assert.match(result.message, /no longer matches its recorded checksum/);
    assert.match(result.nextStep ?? '', /another backup/);
    assert.equal(helpers.size, before);
    assert.equal(await claimExists('media', 'tampered-copy'), false);
  });

  it('an archive with an entry written through a symlink (to /etc) is refused before anything is created', async () => {
    const dir = join(sb.dir, 'unsafe');
    const script = [
      `mkdir -p '${dir}/src' '${dir}/more' && echo ok > '${dir}/src/fine.txt' && ln -s /etc '${dir}/src/etc-link' && echo evil > '${dir}/more/passwd'`,
      `tar cf '${dir}/unsafe.tar' -C '${dir}/src' . && tar rf '${dir}/unsafe.tar' -C '${dir}/more' --transform 's,^\\./passwd$,./etc-link/passwd,' ./passwd`,
      `gzip -c '${dir}/unsafe.tar' > '${dir}/unsafe.tar.gz'`,
    ];
    execFileSync('sh', ['-c', script.join(' && ')]);
    const before = helpers.size;
    const result = await restore({ archivePath: join(dir, 'unsafe.tar.gz'), target: { namespace: 'media', pvc: 'small-src' } });
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'create');
    assert.match(result.message, /\.\/etc-link\/passwd \(path passes through the symlink etc-link\)/);
    assert.equal(helpers.size, before);
    assert.ok(existsSync(join(sb.cluster.volumePath('media', 'small-src'), 'docs/readme.txt')));
  });

  it('tar failing in the pod fails the upload stage, and a new claim is not left behind', async () => {
    sb.cluster.faults.inject({ kind: 'execExitCode', target: { namespace: 'media', pod: 'nkvm-restore-*' }, code: 2 });
    const result = await restore({ archivePath: smallArchive.path, target: { namespace: 'media', pvc: 'failed-copy' }, createClaim: { storage: '1Gi' } });
    assert.equal(result.status, 'failed');
    assert.equal(result.stage, 'upload');
    assert.match(result.message, /tar in the helper pod exited with code 2/);
    assert.equal(await claimExists('media', 'failed-copy'), false);
  });
});
