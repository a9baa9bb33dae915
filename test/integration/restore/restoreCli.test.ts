import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { SandboxFixture, startSandbox } from '../sandboxFixture';
import { folderListing, leftoverHelpers } from './restoreFixture';
import { runNkvm, sandboxEnv } from '../cli/runNkvm';

describe('nkvm restore', function () {
  this.timeout(90_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;
  before(async () => {
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
  });
  afterEach(async () => assert.deepEqual(await leftoverHelpers(core), []));
  after(async () => sb?.stop());

  const nkvm = (args: string[]) => runNkvm(args, { cwd: sb.dir, env: sandboxEnv(sb) });

  it('restores a backup from the history into a new claim shaped like the source, and records it', async () => {
    const b = await nkvm(['backup', 'media/archive-2019']);
    assert.equal(b.code, 0, b.stderr + b.stdout);
    const rows = JSON.parse((await nkvm(['history', '--json'])).stdout) as { id: number; operation: string; pvcName: string; backupPath: string }[];
    const backup = rows.find((r) => r.pvcName === 'archive-2019')!;

    const r = await nkvm(['restore', String(backup.id), '--to', 'media/archive-2019-copy', '--new-claim']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^ok  media\/archive-2019-copy  3 files, .* from \/.*archive-2019-\d{8}T\d{9}Z\.tar\.gz$/m);
    const claim = await core.readNamespacedPersistentVolumeClaim({ namespace: 'media', name: 'archive-2019-copy' });
    assert.equal(claim.spec?.resources?.requests?.storage, '20Gi');
    assert.equal(claim.spec?.storageClassName, 'standard');
    assert.deepEqual(folderListing(sb.cluster.volumePath('media', 'archive-2019-copy')), folderListing(sb.cluster.volumePath('media', 'archive-2019')));

    const after = JSON.parse((await nkvm(['history', '--json'])).stdout) as { operation: string; pvcName: string; backupPath: string; status: string }[];
    const restoreRow = after.find((row) => row.operation === 'restore')!;
    assert.equal(restoreRow.pvcName, 'archive-2019-copy');
    assert.equal(restoreRow.backupPath, backup.backupPath);
    assert.equal(restoreRow.status, 'success');

    const p = await nkvm(['restore', backup.backupPath, '--to', 'media/archive-2019-copy', '--empty-first', '--path', 'notes.txt', '--json']);
    assert.equal(p.code, 0, p.stderr + p.stdout);
    assert.equal(JSON.parse(p.stdout).files, 1);
    assert.deepEqual(folderListing(sb.cluster.volumePath('media', 'archive-2019-copy')), ['notes.txt f']);
  });

  it('exits 1 with the next step when the restore fails, and 2 on a usage error', async () => {
    const b = await nkvm(['backup', 'analytics/reports', '--json']);
    const archive = JSON.parse(b.stdout).results[0].archivePath as string;
    const r = await nkvm(['restore', archive, '--to', 'analytics/does-not-exist']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^FAILED  analytics\/does-not-exist  create stage failed: PersistentVolumeClaim "does-not-exist" was not found/m);
    assert.match(r.stdout, /next step: Restore into a new claim/);
    const u = await nkvm(['restore', archive, '--to', 'nonsense']);
    assert.equal(u.code, 2);
    assert.match(u.stderr, /--to takes <namespace>\/<pvc>/);
  });
});
