import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { backupVolume } from '../../../src/core/backup/backupVolume';
import { restoreVolume, type RestoreSettings } from '../../../src/core/restore/restoreVolume';
import { findResourceType } from '../../sandbox/resourceTypes';
import { TEST_HELPER_IMAGE } from '../helperImage';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

/** The owners a restore gives back without root: those of an archive whose files all belong to one user. */
const podsType = findResourceType('', 'v1', 'pods')!;

describe('restoring a workload volume keeps its one owner without root', function () {
  this.timeout(120_000);
  let sb: SandboxFixture;
  const namespace = 'shop';
  const settings: RestoreSettings = { helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20 };
  const backupSettings = () => ({ backupDir: join(sb.dir, 'backups'), helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20 });

  let pgArchive: string;

  before(async function () {
    if (process.getuid?.() !== 0) this.skip(); // files owned by the workload's user
    sb = await startSandbox();
    // A scaled-down PostgreSQL's volume: everything belongs to 999, pgdata is private.
    const source = await claim('pg-source');
    execFileSync('sh', ['-c', `cd '${source}' && mkdir -p pgdata/base && echo 17 > pgdata/PG_VERSION && echo x > pgdata/base/1 && chown -R 999:999 pgdata && chmod 700 pgdata`]);
    const backup = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace, pvc: 'pg-source' }, backupSettings(), 'pg');
    assert.equal(backup.status, 'success', backup.message);
    pgArchive = backup.archivePath!;
  });
  after(async () => sb?.stop());

  async function claim(name: string): Promise<string> {
    const core = sb.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedPersistentVolumeClaim({ namespace, body: { metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' } } });
    return eventually('bound', async () => ((await core.readNamespacedPersistentVolumeClaim({ name, namespace })).status?.phase === 'Bound' ? sb.cluster.volumePath(namespace, name) : undefined));
  }

  it('writes a new claim as the archive\'s one owner (999), so the restored files are 999\'s and nothing is said about owners', async () => {
    const result = await restoreVolume(sb.kubeConfig, { archivePath: pgArchive, target: { context: 'sandbox', namespace, pvc: 'pg-copy' }, createClaim: {} }, settings, 'pg-copy');
    assert.equal(result.status, 'success', `${result.message} ${result.nextStep ?? ''}`);
    const copy = sb.cluster.volumePath(namespace, 'pg-copy');
    for (const path of ['pgdata', 'pgdata/PG_VERSION', 'pgdata/base/1']) {
      const s = statSync(join(copy, path));
      assert.deepEqual([s.uid, s.gid], [999, 999], path);
    }
    assert.equal((statSync(join(copy, 'pgdata')).mode & 0o777).toString(8), '700');
    assert.deepEqual(result.warnings.filter((w) => /Owners not kept/.test(w)), []);
  });

  it('replaces the files of a claim that belong to 999 in place, as 999: contents, owners and modes as archived', async () => {
    const volume = await claim('pg-live');
    execFileSync('sh', ['-c', `cd '${volume}' && chown 0:0 . && chmod 755 . && mkdir -p pgdata/base && echo 16 > pgdata/PG_VERSION && echo y > pgdata/base/1 && echo z > pgdata/base/2 && chown -R 999:999 pgdata && chmod 700 pgdata`]);
    const result = await restoreVolume(sb.kubeConfig, { archivePath: pgArchive, target: { context: 'sandbox', namespace, pvc: 'pg-live' }, emptyFirst: true }, settings, 'pg-live');
    assert.equal(result.status, 'success', `${result.stage}: ${result.message} ${result.nextStep ?? ''}`);
    assert.equal(execFileSync('cat', [join(volume, 'pgdata/PG_VERSION')], { encoding: 'utf8' }), '17\n');
    assert.equal(execFileSync('ls', [join(volume, 'pgdata/base')], { encoding: 'utf8' }), '1\n', 'emptied first: the file the archive does not have is gone');
    for (const path of ['pgdata', 'pgdata/PG_VERSION', 'pgdata/base', 'pgdata/base/1']) {
      const s = statSync(join(volume, path));
      assert.deepEqual([s.uid, s.gid], [999, 999], path);
    }
    assert.equal((statSync(join(volume, 'pgdata')).mode & 0o777).toString(8), '700');
    assert.deepEqual(result.warnings.filter((w) => /Owners not kept/.test(w)), []);
  });

  it('stops before writing into a claim whose files belong to 999 and to root, naming both and the choices', async () => {
    const volume = await claim('pg-mixed');
    execFileSync('sh', ['-c', `cd '${volume}' && mkdir -p pgdata && echo 16 > pgdata/PG_VERSION && chown -R 999:999 . && echo root > root.conf && chown 0:0 root.conf`]);
    const result = await restoreVolume(sb.kubeConfig, { archivePath: pgArchive, target: { context: 'sandbox', namespace, pvc: 'pg-mixed' } }, settings, 'pg-mixed');
    assert.equal(result.status, 'failed', result.message);
    assert.equal(result.stage, 'create', result.message);
    assert.match(result.message, /belong to (uid 999 \(\d+ entr(y|ies)\), uid 0 \(root\)|uid 0 \(root\) \(\d+ entr(y|ies)\), uid 999).*Nothing was written/);
    assert.match(result.nextStep ?? '', /--as-root with nkvm restore.*nkvm\.helper\.runAsUser/);
    assert.equal(execFileSync('cat', [join(volume, 'pgdata/PG_VERSION')], { encoding: 'utf8' }), '16\n', 'nothing was touched');
    assert.deepEqual(sb.cluster.store.list(podsType).filter((p) => p.metadata?.namespace === namespace && p.metadata?.labels?.['app.kubernetes.io/component'] === 'backup-helper'), [], 'no helper left');
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
