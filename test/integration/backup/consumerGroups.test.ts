import { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { backupVolume } from '../../../src/core/backup/backupVolume';
import { types } from '../../sandbox/cluster/types';
import { deletePodsNow, readerPod } from '../podHelpers';
import { eventually, SandboxFixture, startSandbox } from '../sandboxFixture';

describe('a helper reading files through the consuming pod’s groups', function () {
  this.timeout(60_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;
  const helpers: V1Pod[] = [];

  before(async function () {
    if (process.getuid?.() !== 0) this.skip(); // files owned by root and another group
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
    sb.cluster.store.subscribe((e) => {
      if (e.resource === types.pods && e.type === 'ADDED' && e.object.metadata.labels?.['app.kubernetes.io/component'] === 'backup-helper') helpers.push(e.object as unknown as V1Pod);
    });
  });
  after(async () => sb?.stop());

  it('backs up a file of mode 0640 owned by root:<fsGroup> completely when the consumer has that fsGroup, without setting fsGroup on the helper', async () => {
    const root = sb.cluster.volumePath('media', 'archive-2019');
    const shared = join(root, 'group-shared.db');
    execFileSync('sh', ['-c', `echo rows > '${shared}' && chown 0:2000 '${shared}' && chmod 0640 '${shared}'`]);
    try {
      await core.createNamespacedPod({
        namespace: 'media',
        body: readerPod('archive-reader', 'media', 'archive-2019', { securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000, supplementalGroups: [3000] } }),
      });
      await eventually('the consumer to run', async () => (await core.readNamespacedPod({ name: 'archive-reader', namespace: 'media' })).status?.phase === 'Running', 20_000);
      const before = helpers.length;
      const result = await backupVolume(sb.kubeConfig, { context: 'sandbox', namespace: 'media', pvc: 'archive-2019' }, { backupDir: join(sb.dir, 'backups'), helperImage: 'alpine:3.20', helperPodTimeoutSeconds: 20 }, 'groups-run');
      assert.equal(result.status, 'success', result.message);
      const sc = helpers[before].spec?.securityContext;
      assert.equal(sc?.runAsUser, 1000);
      assert.deepEqual(sc?.supplementalGroups, [2000, 3000]);
      assert.equal(sc?.fsGroup, undefined, 'fsGroup on the helper would make the kubelet chown the volume');
    } finally {
      await deletePodsNow(core, 'media');
      execFileSync('rm', ['-f', shared]);
    }
  });
});
