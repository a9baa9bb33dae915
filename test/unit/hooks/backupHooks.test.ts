import type { V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { resolveBackupHookSettings } from '../../../src/core/config/backupHookSettings';
import { findBackupHooks } from '../../../src/core/hooks/backupHooks';

function pod(name: string, claim: string, annotations: Record<string, string> = {}, phase = 'Running', containers = ['postgres', 'exporter']): V1Pod {
  return {
    metadata: { name, namespace: 'shop', annotations },
    spec: {
      containers: containers.map((c) => ({ name: c, image: 'postgres:16', volumeMounts: c === containers[0] ? [{ name: 'data', mountPath: '/var/lib/postgresql/data' }] : [] })),
      initContainers: [{ name: 'log-shipper', image: 'alpine:3.20', restartPolicy: 'Always' }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }],
    },
    status: { phase },
  };
}

describe('finding the hooks around a claim’s backup', () => {
  const freeze = { 'pre.hook.backup.velero.io/command': '["/bin/sh","-c","psql -c CHECKPOINT"]', 'post.hook.backup.velero.io/command': '["/bin/true"]' };

  it('runs annotated hooks in the first container of each pod that mounts the claim, and ignores other pods', () => {
    const hooks = findBackupHooks([pod('orders-db-0', 'data-orders-db-0', freeze), pod('orders-db-1', 'data-orders-db-1', freeze)], 'shop', 'data-orders-db-0');
    assert.deepEqual(hooks.pre.map((h) => [h.pod, h.container, h.command, h.source, h.onError, h.timeoutMs]), [['orders-db-0', 'postgres', ['/bin/sh', '-c', 'psql -c CHECKPOINT'], 'annotation', 'Fail', 30_000]]);
    assert.deepEqual(hooks.post.map((h) => [h.pod, h.command]), [['orders-db-0', ['/bin/true']]]);
  });

  it('accepts a sidecar as the container, and marks a container the pod does not have as a failing hook naming those it has', () => {
    const sidecar = findBackupHooks([pod('orders-db-0', 'data-orders-db-0', { ...freeze, 'pre.hook.backup.velero.io/container': 'log-shipper' })], 'shop', 'data-orders-db-0');
    assert.equal(sidecar.pre[0]!.problem, undefined);
    const missing = findBackupHooks([pod('orders-db-0', 'data-orders-db-0', { ...freeze, 'pre.hook.backup.velero.io/container': 'pg' })], 'shop', 'data-orders-db-0');
    assert.equal(missing.pre[0]!.problem, 'pod shop/orders-db-0 has no container "pg" (it has postgres, exporter, log-shipper); fix the hook\'s container or leave it out to use the first container');
  });

  it('skips the hooks of a pod that has completed, as Velero does, and says so', () => {
    const hooks = findBackupHooks([pod('orders-import-x1', 'data-orders-db-0', freeze, 'Succeeded')], 'shop', 'data-orders-db-0');
    assert.deepEqual([hooks.pre, hooks.post], [[], []]);
    assert.deepEqual(hooks.notes, ['the pre hook of pod shop/orders-import-x1 is skipped: the pod has completed', 'the post hook of pod shop/orders-import-x1 is skipped: the pod has completed']);
  });

  it('adds the setting’s hooks after the annotations, on the first running pod unless one is named', () => {
    const settings = resolveBackupHookSettings({ 'shop/data-orders-db-0': { pre: { command: ['/bin/sync'], container: 'exporter', onError: 'Continue', timeout: '2m' } } }, {});
    const pods = [pod('orders-db-0', 'data-orders-db-0', {}, 'Pending'), pod('orders-db-1', 'data-orders-db-0', freeze)];
    const hooks = findBackupHooks(pods, 'shop', 'data-orders-db-0', settings);
    assert.deepEqual(
      hooks.pre.map((h) => [h.source, h.pod, h.container, h.onError, h.timeoutMs, h.origin]),
      [
        ['annotation', 'orders-db-1', 'postgres', 'Fail', 30_000, 'pre.hook.backup.velero.io'],
        ['setting', 'orders-db-1', 'exporter', 'Continue', 120_000, 'nkvm.backup.hooks["shop/data-orders-db-0"].pre'],
      ],
    );
    assert.deepEqual(hooks.post.map((h) => h.source), ['annotation']);
  });

  it('fails the setting’s hook when pods mount the claim but none runs, and skips it when nothing mounts the claim', () => {
    const settings = resolveBackupHookSettings({ 'shop/data-orders-db-0': { pre: { command: ['/bin/sync'] } } }, {});
    const pending = findBackupHooks([pod('orders-db-0', 'data-orders-db-0', {}, 'Pending')], 'shop', 'data-orders-db-0', settings);
    assert.match(pending.pre[0]!.problem!, /no pod that mounts shop\/data-orders-db-0 is Running/);
    const unused = findBackupHooks([], 'shop', 'data-orders-db-0', settings);
    assert.deepEqual(unused.pre, []);
    assert.match(unused.notes[0]!, /skipped: no running pod mounts the claim/);
  });
});
