import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { backupVolume, type BackupSettings } from '../../../src/core/backup/backupVolume';
import { resolveHelperSettings } from '../../../src/core/config/helperSettings';
import { TEST_HELPER_IMAGE } from '../helperImage';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

/**
 * A database volume laid out as PostgreSQL keeps it (`pgdata/` mode 700, everything owned by 999), with
 * its workload scaled down: no pod mounts it, so no pod says which user may read it.
 */
describe('backing up a scaled-down workload volume as the owner of its files', function () {
  this.timeout(120_000);
  let sb: SandboxFixture;
  let runs = 0;
  const namespace = 'shop';

  before(async function () {
    if (process.getuid?.() !== 0) this.skip(); // chown to the workload's user
    sb = await startSandbox();
  });
  after(async () => sb?.stop());

  async function databaseClaim(name: string, owner: string): Promise<void> {
    const core = sb.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: { metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' } },
    });
    const path = await eventually('the claim is bound', async () => {
      const claim = await core.readNamespacedPersistentVolumeClaim({ name, namespace });
      return claim.status?.phase === 'Bound' ? sb.cluster.volumePath(namespace, name) : undefined;
    });
    execFileSync('sh', [
      '-c',
      `set -e; cd '${path}'; mkdir -p pgdata/base/1; echo 17 > pgdata/PG_VERSION; head -c 8192 /dev/zero > pgdata/base/1/1259; ` +
        `echo "port = 5432" > postgresql.conf; chown -R ${owner} pgdata postgresql.conf; chmod 700 pgdata; chmod 600 pgdata/PG_VERSION postgresql.conf`,
    ]);
  }

  const settingsFor = (helperPod: BackupSettings['helperPod'] = {}): BackupSettings => ({ backupDir: join(sb.dir, `backups-${++runs}`), helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20, helperPod });

  it('runs as the user named in nkvm.helper.runAsUser for the claim, and the backup is complete', async () => {
    await databaseClaim('pg-configured', '999:999');
    const helperPod = resolveHelperSettings({ runAsUser: { 'shop/pg-configured': '999:999' } }, {});
    const result = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace, pvc: 'pg-configured' }, settingsFor(helperPod), 'configured');
    assert.equal(result.status, 'success', `${result.message} ${result.nextStep ?? ''}`);
    const listing = execFileSync('tar', ['-tzf', result.archivePath!], { encoding: 'utf8' });
    assert.match(listing, /pgdata\/base\/1\/1259/);
  });

  it('with no setting, finds the one owner of the files and runs as that user: complete, not partial', async () => {
    await databaseClaim('pg-owner', '999:999');
    const result = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace, pvc: 'pg-owner' }, settingsFor(), 'owner');
    assert.equal(result.status, 'success', `${result.message} ${result.nextStep ?? ''}`);
    assert.match(execFileSync('tar', ['-tzf', result.archivePath!], { encoding: 'utf8' }), /pgdata\/PG_VERSION/);
    const pods = await sb.kubeConfig.makeApiClient(CoreV1Api).listNamespacedPod({ namespace, labelSelector: 'nkvm.dev/pvc=pg-owner' });
    assert.deepEqual(pods.items.map((p) => p.metadata?.name), [], 'no helper left behind');
  });

  it('when root and another user own files, stays non-root and says which owners it could not read as and what to set', async () => {
    await databaseClaim('pg-mixed', '999:999');
    execFileSync('sh', ['-c', `cd '${sb.cluster.volumePath(namespace, 'pg-mixed')}' && mkdir rootonly && echo x > rootonly/key && chmod 700 rootonly`]);
    const result = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace, pvc: 'pg-mixed' }, settingsFor(), 'mixed');
    assert.equal(result.status, 'partial', result.message);
    assert.match(`${result.message} ${result.nextStep}`, /uid 999.*uid 0 \(root\)|uid 0 \(root\).*uid 999/s);
    assert.match(result.nextStep ?? '', /nkvm\.helper\.runAsRoot/);
  });
});
