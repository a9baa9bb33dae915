import { CoreV1Api } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { digestArchiveFile } from '../../../src/core/archive/archiveDigests';
import { recordBackupDigests } from '../../../src/core/archive/archiveDigestsHistory';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { runNkvm, sandboxEnv } from '../cli/runNkvm';
import { TEST_HELPER_IMAGE } from '../helperImage';
import { boundClaim, seedTree } from '../restore/restoreFixture';
import { SandboxFixture, startSandbox } from '../sandboxFixture';

describe('nkvm drill', function () {
  this.timeout(240_000);
  let sb: SandboxFixture;
  let env: Record<string, string>;
  let id: number;
  let archive: string;

  before(async () => {
    sb = await startSandbox();
    seedTree(await boundClaim(sb, 'media', 'cli-drill'));
    env = { ...sandboxEnv(sb), NKVM_HELPER_IMAGE: TEST_HELPER_IMAGE, NKVM_COMPRESSION: 'none' };
    const backup = await runNkvm(['backup', 'media/cli-drill', '--json'], { cwd: sb.dir, env });
    assert.equal(backup.code, 0, backup.stderr + backup.stdout);
    const history = await HistoryStore.open(env.NKVM_METADATA_DB_PATH!);
    try {
      const [row] = await history.latest({ operation: 'backup' });
      id = row!.id;
      archive = row!.backupPath!;
      if (!(await history.loadBackupDigests(id))) await recordBackupDigests(history, id, await digestArchiveFile(archive));
    } finally {
      await history.close();
    }
  });
  after(async () => sb?.stop());

  const nkvm = (args: string[]) => runNkvm(args, { cwd: sb.dir, env });
  const drillClaims = async () =>
    (await sb.kubeConfig.makeApiClient(CoreV1Api).listPersistentVolumeClaimForAllNamespaces({ labelSelector: 'app.kubernetes.io/component=restore-drill' })).items;

  it('--json reports the outcome, no differences and the namespace used; exit 0; nkvm history shows the drill', async () => {
    const run = await nkvm(['drill', String(id), '--json']);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const report = JSON.parse(run.stdout);
    assert.equal(report.outcome, 'ok');
    assert.equal(report.namespace, 'media');
    assert.deepEqual(report.comparison.differences, []);
    assert.deepEqual(await drillClaims(), []);
    const listed = await nkvm(['history']);
    assert.match(listed.stdout, /drill ok/);
  });

  it('a flipped byte in the plain .tar: exit 1, the file named in the differences, drilled in the namespace asked for', async () => {
    const bytes = readFileSync(archive);
    const at = bytes.indexOf(Buffer.from('secret\n'));
    assert.ok(at > 0);
    bytes[at] ^= 0x20;
    writeFileSync(archive, bytes);
    const run = await nkvm(['drill', archive, '--namespace', 'analytics', '--json']);
    assert.equal(run.code, 1, run.stderr + run.stdout);
    const report = JSON.parse(run.stdout);
    assert.equal(report.outcome, 'differs');
    assert.equal(report.namespace, 'analytics');
    assert.deepEqual(report.comparison.differences.map((d: { kind: string; path: string }) => [d.kind, d.path]), [['content', 'docs/private.key']]);
    assert.deepEqual(await drillClaims(), []);
    const text = await nkvm(['drill', String(id)]);
    assert.match(text.stdout, /^DIFFERS {2}#\d+ {2}drilled in namespace media: /);
    assert.match(text.stdout, /content {2}docs\/private\.key/);
  });
});
