import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runNkvm, sandboxEnv } from '../cli/runNkvm';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

const FOLDERS = 500;
const FILES_PER_FOLDER = 100;
const fileName = (d: number, f: number) => join(`dir${String(d).padStart(3, '0')}`, `file${String(f).padStart(3, '0')}.txt`);

/** `nkvm restore` into a 50,000-file volume whose files belong to root, with no pod mounting it. */
describe('nkvm restore into a large volume that root owns', function () {
  this.timeout(300_000);
  let sb: SandboxFixture;
  let volume: string;
  let backupId: string;
  const namespace = 'media';
  const nkvm = (args: string[]) => runNkvm(args, { cwd: sb.dir, env: { ...sandboxEnv(sb), NKVM_HELPER_POD_TIMEOUT_SECONDS: '30' } });

  before(async function () {
    if (process.getuid?.() !== 0) this.skip(); // root-owned files
    sb = await startSandbox();
    const core = sb.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespacedPersistentVolumeClaim({ namespace, body: { metadata: { name: 'many' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' } } });
    volume = await eventually('bound', async () => ((await core.readNamespacedPersistentVolumeClaim({ name: 'many', namespace })).status?.phase === 'Bound' ? sb.cluster.volumePath(namespace, 'many') : undefined));
    // Written by this (root) process: every file and folder belongs to root, as a root workload leaves them.
    for (let d = 0; d < FOLDERS; d++) {
      mkdirSync(join(volume, `dir${String(d).padStart(3, '0')}`), { mode: 0o755 });
      for (let f = 0; f < FILES_PER_FOLDER; f++) writeFileSync(join(volume, fileName(d, f)), `${d}/${f}\n`, { mode: 0o644 });
    }
    const backup = await nkvm(['backup', `${namespace}/many`, '--json']);
    assert.equal(backup.code, 0, backup.stderr + backup.stdout);
    assert.equal(JSON.parse(backup.stdout).results[0].status, 'success');
    const history = await nkvm(['history', '--json', '--limit', '1']);
    backupId = String(JSON.parse(history.stdout)[0].id);
    // What the restore must put back.
    writeFileSync(join(volume, fileName(167, 55)), 'changed\n');
  });
  after(async () => sb?.stop());

  for (const emptyFirst of [true, false]) {
    it(`${emptyFirst ? '--empty-first' : 'without --empty-first'} stops before writing, naming root as the owner and --as-root, not the connection`, async () => {
      const r = await nkvm(['restore', backupId, '--to', `${namespace}/many`, ...(emptyFirst ? ['--empty-first'] : [])]);
      assert.equal(r.code, 1, r.stderr + r.stdout);
      assert.match(r.stdout, /^FAILED  media\/many  .*belong to uid 0 \(root\) \(500 entries\); the helper, running as uid 65534.*Nothing was written/m);
      assert.match(r.stdout, /^    next step: Restore as root, which namespace "media" allows .*--as-root with nkvm restore/m);
      assert.doesNotMatch(r.stdout, /connection to the API server|pods\/exec/);
      assert.equal(readFileSync(join(volume, fileName(167, 55)), 'utf8'), 'changed\n', 'nothing was written');
      assert.equal(readdirSync(join(volume, 'dir499')).length, FILES_PER_FOLDER, 'nothing was removed');
    });
  }

  it('--as-root --empty-first restores all 50,000 files with their owners', async () => {
    writeFileSync(join(volume, 'not-in-the-backup.txt'), 'x\n');
    const r = await nkvm(['restore', backupId, '--to', `${namespace}/many`, '--empty-first', '--as-root']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^ok  media\/many  50000 files, /m);
    assert.doesNotMatch(r.stdout, /warning:/);
    assert.equal(readFileSync(join(volume, fileName(167, 55)), 'utf8'), '167/55\n');
    assert.deepEqual(readdirSync(volume).filter((n) => !n.startsWith('dir')).sort(), ['lost+found']);
    const s = statSync(join(volume, fileName(393, 42)));
    assert.deepEqual([s.uid, s.gid, (s.mode & 0o777).toString(8)], [0, 0, '644']);
  });
});
