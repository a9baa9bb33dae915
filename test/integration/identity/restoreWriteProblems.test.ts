import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { backupVolume } from '../../../src/core/backup/backupVolume';
import { restoreVolume, type RestoreSettings } from '../../../src/core/restore/restoreVolume';
import { TEST_HELPER_IMAGE } from '../helperImage';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

/** A claim whose files belong to root, with no pod mounting it: the non-root helper may not replace them. */
describe('restoring into a claim the helper may not write', function () {
  this.timeout(120_000);
  let sb: SandboxFixture;
  let archivePath: string;
  const namespace = 'media';
  const settings: RestoreSettings = { helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20 };

  before(async function () {
    if (process.getuid?.() !== 0) this.skip(); // root-owned files
    sb = await startSandbox();
    const backup = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace, pvc: 'archive-2019' }, { backupDir: join(sb.dir, 'backups'), helperImage: TEST_HELPER_IMAGE, helperPodTimeoutSeconds: 20 }, 'source');
    assert.equal(backup.status, 'success', backup.message);
    archivePath = backup.archivePath!;
  });
  after(async () => sb?.stop());

  async function claimWith(name: string, layout: string): Promise<string> {
    const core = sb.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedPersistentVolumeClaim({ namespace, body: { metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' } } });
    const path = await eventually('bound', async () => ((await core.readNamespacedPersistentVolumeClaim({ name, namespace })).status?.phase === 'Bound' ? sb.cluster.volumePath(namespace, name) : undefined));
    execFileSync('sh', ['-c', `cd '${path}' && ${layout}`]);
    return path;
  }
  const restoreInto = (pvc: string, emptyFirst: boolean) => restoreVolume(sb.kubeConfig, { archivePath, target: { context: 'sandbox', namespace, pvc }, emptyFirst }, settings, `restore-${pvc}`);

  for (const emptyFirst of [false, true]) {
    it(`stops before writing when root owns the files, naming the owners and the choices${emptyFirst ? ' (emptying it first)' : ''}`, async () => {
      const pvc = `root-owned-${emptyFirst ? 'empty' : 'keep'}`;
      const path = await claimWith(pvc, 'mkdir -p old && echo keep > old/file && chown -R 0:0 . && chmod 755 . old && chmod 644 old/file');
      const result = await restoreInto(pvc, emptyFirst);
      assert.equal(result.status, 'failed', `${result.stage}: ${result.message}`);
      assert.equal(result.stage, 'create', result.message);
      assert.match(result.message, /belong to uid 0 \(root\) \(1 entry\); the helper, running as uid 65534.*could neither replace them.*Nothing was written/);
      assert.match(result.nextStep ?? '', /Restore as root, which namespace "media" allows.*nkvm\.helper\.runAsRoot.*nkvm\.helper\.runAsUser/);
      assert.equal(result.rootWouldWrite, true, 'the window offers "Restore as Root"');
      assert.equal(execFileSync('cat', [join(path, 'old', 'file')], { encoding: 'utf8' }), 'keep\n', 'nothing was touched');
    });
  }

  it('does the same restore as root when asked: the files get their archived owners', async () => {
    const pvc = 'root-owned-as-root';
    await claimWith(pvc, 'mkdir -p old && echo keep > old/file && chown -R 0:0 . && chmod 755 . old');
    const result = await restoreVolume(sb.kubeConfig, { archivePath, target: { context: 'sandbox', namespace, pvc }, runAsRoot: true }, settings, `restore-${pvc}`);
    assert.equal(result.status, 'success', `${result.stage}: ${result.message}`);
    assert.deepEqual(result.warnings.filter((w) => /Owners not kept/.test(w)), []);
  });

  it('names a permission problem deeper in the volume, the helper user and the settings that fix it, not the network', async () => {
    const pvc = 'locked-inside';
    // The top belongs to the helper's user, so it keeps running as nobody; a folder the archive writes into does not.
    const path = await claimWith(pvc, 'mkdir -p photos && chown 65534:65534 . photos && mkdir photos/2019 && chown 0:0 photos/2019 && chmod 755 photos/2019');
    const result = await restoreInto(pvc, false);
    assert.equal(result.status, 'failed', `${result.stage}: ${result.message}`);
    assert.equal(result.stage, 'upload', result.message);
    assert.match(result.message, /the helper, running as uid 65534, gid 65534, may not write .*Permission denied: photos\/2019/);
    assert.match(result.nextStep ?? '', /belong to another user.*nkvm\.helper\.runAsUser.*nkvm\.helper\.runAsRoot/);
    assert.doesNotMatch(result.nextStep ?? '', /connection to the API server|pods\/exec/);
    assert.ok(execFileSync('ls', ['-A', join(path, 'photos', '2019')], { encoding: 'utf8' }) === '', 'the locked folder stays as it was');
  });

  it('writes an empty claim whose root folder belongs to root, as a freshly formatted volume has it', async () => {
    const pvc = 'fresh-ext4';
    const path = await claimWith(pvc, 'chown 0:0 . && chmod 755 . && mkdir -p lost+found && chmod 700 lost+found');
    const result = await restoreInto(pvc, false);
    assert.equal(result.status, 'success', `${result.stage}: ${result.message} ${result.nextStep ?? ''}`);
    assert.ok(execFileSync('ls', ['-A', path], { encoding: 'utf8' }).includes('photos'));
  });
});
