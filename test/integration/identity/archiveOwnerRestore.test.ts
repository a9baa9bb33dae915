import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { backupVolume } from '../../../src/core/backup/backupVolume';
import { restoreVolume, type RestoreSettings } from '../../../src/core/restore/restoreVolume';
import { TEST_HELPER_IMAGE } from '../helperImage';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

/** The owners a restore gives back without root: those of an archive whose files all belong to one user. */
describe('restoring a workload volume keeps its one owner without root', function () {
  this.timeout(120_000);
  let sb: SandboxFixture;
  const namespace = 'shop';
  const settings: RestoreSettings = { helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20 };
  const backupSettings = () => ({ backupDir: join(sb.dir, 'backups'), helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20 });

  before(async function () {
    if (process.getuid?.() !== 0) this.skip(); // files owned by the workload's user
    sb = await startSandbox();
  });
  after(async () => sb?.stop());

  async function claim(name: string): Promise<string> {
    const core = sb.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedPersistentVolumeClaim({ namespace, body: { metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' } } });
    return eventually('bound', async () => ((await core.readNamespacedPersistentVolumeClaim({ name, namespace })).status?.phase === 'Bound' ? sb.cluster.volumePath(namespace, name) : undefined));
  }

  it('writes a new claim as the archive\'s one owner (999), so the restored files are 999\'s and nothing is said about owners', async () => {
    const source = await claim('pg-source');
    execFileSync('sh', ['-c', `cd '${source}' && mkdir -p pgdata/base && echo 17 > pgdata/PG_VERSION && echo x > pgdata/base/1 && chown -R 999:999 pgdata && chmod 700 pgdata`]);
    const backup = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace, pvc: 'pg-source' }, backupSettings(), 'pg');
    assert.equal(backup.status, 'success', backup.message);
    const result = await restoreVolume(sb.kubeConfig, { archivePath: backup.archivePath!, target: { context: 'sandbox', namespace, pvc: 'pg-copy' }, createClaim: {} }, settings, 'pg-copy');
    assert.equal(result.status, 'success', `${result.message} ${result.nextStep ?? ''}`);
    const copy = sb.cluster.volumePath(namespace, 'pg-copy');
    for (const path of ['pgdata', 'pgdata/PG_VERSION', 'pgdata/base/1']) {
      const s = statSync(join(copy, path));
      assert.deepEqual([s.uid, s.gid], [999, 999], path);
    }
    assert.equal((statSync(join(copy, 'pgdata')).mode & 0o777).toString(8), '700');
    assert.deepEqual(result.warnings.filter((w) => /Owners not kept/.test(w)), []);
  });

  it('says which owners it could not keep when the archive has several and the helper is not root', async () => {
    const backup = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'media', pvc: 'archive-2019' }, backupSettings(), 'demo');
    assert.equal(backup.status, 'success', backup.message);
    const result = await restoreVolume(sb.kubeConfig, { archivePath: backup.archivePath!, target: { context: 'sandbox', namespace: 'media', pvc: 'demo-copy' }, createClaim: {} }, settings, 'demo-copy');
    assert.equal(result.status, 'success', result.message);
    assert.match(result.warnings.join('\n'), /^Owners not kept: \d+ entries of uid 0 \(root\) now belong to uid 65534, the helper's user\. Restore as root/m);
    // The new volume's root belongs to root (group-writable through fsGroup): its mode stays, and that is said.
    const rootMode = (statSync(sb.cluster.volumePath('media', 'demo-copy')).mode & 0o7777).toString(8).padStart(4, '0');
    assert.match(result.warnings.join('\n'), new RegExp(`^The volume's root folder keeps mode ${rootMode} where the archive has 0\\d{3}: only its owner or root`, 'm'));
  });

  it('as root, gives the root folder its archived mode and says nothing about owners', async () => {
    const backup = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'media', pvc: 'archive-2019' }, backupSettings(), 'demo-root');
    const result = await restoreVolume(sb.kubeConfig, { archivePath: backup.archivePath!, target: { context: 'sandbox', namespace: 'media', pvc: 'demo-root-copy' }, createClaim: {}, runAsRoot: true }, settings, 'demo-root-copy');
    assert.equal(result.status, 'success', result.message);
    assert.deepEqual(result.warnings, []);
  });
});
