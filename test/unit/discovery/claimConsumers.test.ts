import assert from 'node:assert/strict';
import { assembleVolumes, claimMountsOf, podsMountingClaims } from '../../../src/core/discovery/claimConsumers';
import type { VolumeInfo } from '../../../src/core/discovery/volumeInventory';
import { intermediateOwnersNeeded } from '../../../src/core/discovery/workloadOwners';
import { loadSnapshot } from './clusterSnapshot';

describe('claims, their consumers and owning workloads (recorded sandbox objects)', () => {
  const demo = loadSnapshot('demoCluster');
  const edge = loadSnapshot('edgeCases');
  const volume = (volumes: VolumeInfo[], name: string): VolumeInfo => {
    const found = volumes.find((v) => v.name === name);
    assert.ok(found, `volume ${name}`);
    return found;
  };

  describe('the demo cluster', () => {
    const volumes = assembleVolumes({ ...demo, context: 'sandbox' });

    it('lists every claim once, sorted by namespace and name, with the context it came from', () => {
      assert.deepEqual(
        volumes.map((v) => `${v.namespace}/${v.name}`),
        ['analytics/reports', 'media/archive-2019', 'media/scratch', 'shop/data-orders-db-0', 'shop/storefront-uploads'],
      );
      assert.ok(volumes.every((v) => v.context === 'sandbox' && v.uid.length > 0));
    });

    it('shows size, class, access modes, phase and the bound volume of a claim', () => {
      const uploads = volume(volumes, 'storefront-uploads');
      assert.equal(uploads.phase, 'Bound');
      assert.equal(uploads.capacity, '5Gi');
      assert.equal(uploads.requested, '5Gi');
      assert.equal(uploads.storageClass, 'standard');
      assert.deepEqual(uploads.accessModes, ['ReadWriteOnce']);
      assert.equal(uploads.volumeMode, 'Filesystem');
      assert.match(uploads.volumeName ?? '', /^pvc-/);
      assert.deepEqual(volume(volumes, 'reports').accessModes, ['ReadWriteMany']);
    });

    it('a Pending claim has what it asked for but no capacity and no volume', () => {
      const scratch = volume(volumes, 'scratch');
      assert.equal(scratch.phase, 'Pending');
      assert.equal(scratch.capacity, undefined);
      assert.equal(scratch.requested, '1Gi');
      assert.equal(scratch.storageClass, 'fast-nvme');
      assert.deepEqual(scratch.accessModes, ['ReadWriteOnce']);
      assert.equal(scratch.volumeName, undefined);
    });

    it('a Deployment pod is owned by the Deployment, through its ReplicaSet', () => {
      const [consumer, ...others] = volume(volumes, 'storefront-uploads').consumers;
      assert.equal(others.length, 0);
      assert.equal(consumer.pod, 'storefront-7d9c8b6f5-x2kqp');
      assert.deepEqual(consumer.owner, { kind: 'Deployment', name: 'storefront', via: { kind: 'ReplicaSet', name: 'storefront-7d9c8b6f5' } });
      assert.equal(consumer.node, 'node-b');
      assert.equal(consumer.phase, 'Running');
      assert.equal(consumer.readOnly, false);
      assert.equal(consumer.runAsUser, 101);
    });

    it('a StatefulSet pod brings its node, tolerations and user, which a helper pod must copy', () => {
      const [consumer] = volume(volumes, 'data-orders-db-0').consumers;
      assert.equal(consumer.pod, 'orders-db-0');
      assert.deepEqual(consumer.owner, { kind: 'StatefulSet', name: 'orders-db' });
      assert.equal(consumer.node, 'node-c');
      assert.deepEqual(consumer.tolerations, [{ key: 'dedicated', operator: 'Equal', value: 'storage', effect: 'NoSchedule' }]);
      assert.equal(consumer.runAsUser, 999);
      assert.equal(consumer.runAsGroup, 999);
      assert.equal(consumer.fsGroup, undefined);
    });

    it('a CronJob pod is owned by the CronJob, through its Job', () => {
      const [consumer] = volume(volumes, 'reports').consumers;
      assert.deepEqual(consumer.owner, { kind: 'CronJob', name: 'nightly-report', via: { kind: 'Job', name: 'nightly-report-29391840' } });
    });

    it('an unmounted claim has no consumers, and that is known rather than guessed', () => {
      const archive = volume(volumes, 'archive-2019');
      assert.deepEqual(archive.consumers, []);
      assert.equal(archive.consumersUnknown, undefined);
    });

    it('without the ReplicaSets and Jobs, pods name their direct controller', () => {
      const bare = assembleVolumes({ ...demo, replicaSets: [], jobs: [] });
      assert.deepEqual(volume(bare, 'storefront-uploads').consumers[0].owner, { kind: 'ReplicaSet', name: 'storefront-7d9c8b6f5' });
      assert.deepEqual(volume(bare, 'reports').consumers[0].owner, { kind: 'Job', name: 'nightly-report-29391840' });
    });

    it('claims in a namespace whose pods could not be listed say their consumers are unknown', () => {
      const partial = assembleVolumes({ ...demo, pods: demo.pods.filter((p) => p.metadata?.namespace !== 'shop'), podsUnknownIn: new Set(['shop']) });
      assert.equal(volume(partial, 'storefront-uploads').consumersUnknown, true);
      assert.equal(volume(partial, 'reports').consumersUnknown, undefined);
    });

    it('only the pods that mount a listed claim need their owners resolved', () => {
      const mounting = podsMountingClaims(demo.pods, demo.claims);
      assert.deepEqual(mounting.map((p) => p.metadata?.name).sort(), ['nightly-report-29391840-8xk2m', 'orders-db-0', 'storefront-7d9c8b6f5-x2kqp']);
      const needed = intermediateOwnersNeeded(mounting.map((p) => p.metadata));
      assert.deepEqual([...needed].map(([kind, namespaces]) => [kind, [...namespaces]]).sort(), [['Job', ['analytics']], ['ReplicaSet', ['shop']]]);
      const shopOnly = podsMountingClaims(demo.pods, demo.claims.filter((c) => c.metadata?.namespace === 'shop'));
      assert.deepEqual([...intermediateOwnersNeeded(shopOnly.map((p) => p.metadata)).keys()], ['ReplicaSet']);
    });
  });

  describe('edge cases', () => {
    const volumes = assembleVolumes(edge);

    it('a pod with no owner, a read-only mount and a container-level user', () => {
      const [viewer] = volume(volumes, 'archive-2019').consumers;
      assert.equal(viewer.pod, 'archive-viewer');
      assert.equal(viewer.owner, undefined);
      assert.equal(viewer.readOnly, true);
      assert.equal(viewer.runAsUser, 2000, 'the container overrides the pod');
      assert.equal(viewer.runAsGroup, 1000, 'the pod fills in what the container leaves out');
      assert.equal(viewer.fsGroup, 3000);
    });

    it('a pod of a ReplicaSet without a Deployment is owned by the ReplicaSet; an unscheduled pod has no node', () => {
      const [pod] = volume(volumes, 'scratch').consumers;
      assert.equal(pod.pod, 'transcoder-5f4d7-q8z2n');
      assert.deepEqual(pod.owner, { kind: 'ReplicaSet', name: 'transcoder-5f4d7' });
      assert.equal(pod.node, undefined);
      assert.equal(pod.phase, 'Pending');
    });

    it('several consumers are sorted by pod, each with its own owner', () => {
      const consumers = volume(volumes, 'reports').consumers;
      assert.deepEqual(
        consumers.map((c) => [c.pod, c.owner?.kind, c.owner?.name, c.readOnly]),
        [
          ['adhoc-export-7hx4c', 'Job', 'adhoc-export', true],
          ['nightly-report-29391840-8xk2m', 'CronJob', 'nightly-report', false],
        ],
      );
    });

    it('a generic ephemeral volume mounts the claim named <pod>-<volume>', () => {
      const pod = edge.pods.find((p) => p.metadata?.name === 'thumbnailer')!;
      assert.deepEqual(claimMountsOf(pod).map((m) => m.claim), ['thumbnailer-cache']);
    });

    it('pods that mount no claim are not consumers of anything', () => {
      const exporter = edge.pods.find((p) => p.metadata?.name === 'node-exporter-4hq7t')!;
      assert.deepEqual(claimMountsOf(exporter), []);
      assert.ok(volumes.every((v) => v.consumers.every((c) => c.pod !== 'node-exporter-4hq7t')));
    });
  });
});
