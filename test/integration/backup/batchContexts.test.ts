import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runBackups } from '../../../src/core/backup/backupRun';
import type { BackupSettings } from '../../../src/core/backup/backupVolume';
import { kubeConfigForContext } from '../../../src/core/kube/contextConfig';
import { HistoryStore } from '../../../src/core/history/historyStore';
import { SandboxFixture, startSandbox } from '../sandboxFixture';

describe('a batch whose targets name contexts that cannot be used', function () {
  this.timeout(60_000);
  let sb: SandboxFixture;
  let core: CoreV1Api;
  let merged: KubeConfig;
  let settings: BackupSettings;
  let runs = 0;

  before(async () => {
    sb = await startSandbox();
    core = sb.kubeConfig.makeApiClient(CoreV1Api);
    // A second context whose credential plugin always fails, as an expired SSO login does.
    const plugin = join(sb.dir, 'failing-auth-plugin');
    writeFileSync(plugin, '#!/bin/sh\necho "error: the SSO session has expired" >&2\nexit 1\n');
    chmodSync(plugin, 0o755);
    const text = sb.cluster
      .kubeconfig({ context: 'expired' })
      .replace(/    token: .*/, `    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ${plugin}\n      interactiveMode: Never`);
    const expired = new KubeConfig();
    expired.loadFromString(text);
    merged = new KubeConfig();
    merged.loadFromOptions({
      clusters: [...sb.kubeConfig.clusters, ...expired.clusters.filter((c) => !sb.kubeConfig.clusters.some((d) => d.name === c.name))],
      users: [...sb.kubeConfig.users, ...expired.users.map((u) => ({ ...u, name: `${u.name}-expired` }))],
      contexts: [...sb.kubeConfig.contexts, ...expired.contexts.map((c) => ({ ...c, user: `${c.user}-expired` }))],
      currentContext: sb.kubeConfig.currentContext,
    });
  });
  beforeEach(() => {
    settings = { backupDir: join(sb.dir, `backups-${++runs}`), helperImage: 'alpine:3.20', helperPodTimeoutSeconds: 20 };
  });
  after(async () => sb?.stop());

  const leftoverHelpers = async () => (await core.listPodForAllNamespaces({ labelSelector: 'app.kubernetes.io/component=backup-helper' })).items.map((p) => p.metadata?.name);
  const sandboxContext = () => sb.kubeConfig.currentContext;

  it('turns an unknown context and a failing credential plugin into failed rows with a next step; the other volumes are backed up', async () => {
    const history = await HistoryStore.open(join(sb.dir, `history-${runs}.db`));
    try {
      const run = await runBackups(
        [
          { context: 'gone-cluster', namespace: 'shop', pvc: 'storefront-uploads' },
          { context: sandboxContext(), namespace: 'media', pvc: 'archive-2019' },
          { context: 'expired', namespace: 'analytics', pvc: 'reports' },
          { context: sandboxContext(), namespace: 'shop', pvc: 'storefront-uploads' },
        ],
        { kubeConfigFor: (context) => kubeConfigForContext(merged, context), settings, concurrency: 2, history },
      );
      assert.deepEqual(run.results.map((r) => r.status), ['failed', 'success', 'failed', 'success']);
      const [unknown, , expired] = run.results;
      assert.match(unknown.message, /context "gone-cluster".*no context named "gone-cluster"/);
      assert.match(unknown.nextStep ?? '', /kubectl config get-contexts/);
      assert.match(expired.message, /SSO session has expired|failing-auth-plugin/);
      assert.ok(expired.nextStep);
      const rows = await history.byRun(run.runId);
      assert.deepEqual(rows.map((r) => `${r.context}/${r.namespace}/${r.pvcName}:${r.status}`).sort(), [
        'expired/analytics/reports:failed',
        'gone-cluster/shop/storefront-uploads:failed',
        `${sandboxContext()}/media/archive-2019:success`,
        `${sandboxContext()}/shop/storefront-uploads:success`,
      ]);
      assert.deepEqual(await leftoverHelpers(), []);
    } finally {
      await history.close();
    }
  });

  it('stays cancellable after one target failed on its context: the running backup ends cancelled, with no pod left', async () => {
    const root = sb.cluster.volumePath('media', 'archive-2019');
    execFileSync('sh', ['-c', `head -c 40000000 /dev/urandom > '${root}/big.bin'`]);
    try {
      const controller = new AbortController();
      let sawFailure = false;
      const run = await runBackups(
        [
          { context: sandboxContext(), namespace: 'media', pvc: 'archive-2019' },
          { context: 'gone-cluster', namespace: 'shop', pvc: 'storefront-uploads' },
        ],
        {
          kubeConfigFor: (context) => kubeConfigForContext(merged, context),
          settings,
          concurrency: 2,
          signal: controller.signal,
          onResult: (r) => (sawFailure ||= r.status === 'failed'),
          // Cancel only once the context failure is known: the batch must still be listening.
          onProgress: (p) => sawFailure && p.pvc === 'archive-2019' && p.stage === 'copy' && p.bytes > 0 && controller.abort(new Error('cancelled by the user')),
        },
      );
      assert.deepEqual(run.results.map((r) => r.status), ['cancelled', 'failed']);
      assert.deepEqual(await leftoverHelpers(), []);
    } finally {
      execFileSync('rm', ['-f', `${root}/big.bin`]);
    }
  });
});
