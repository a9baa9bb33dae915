import { CoreV1Api, type KubeConfig, type V1ObjectMeta } from '@kubernetes/client-node';
import { readLease, describeOwner } from '../backup/helperOwner';
import { HELPER_COMPONENT_LABEL, RUN_ID_LABEL, PVC_LABEL } from '../backup/helperPodSpec';
import { duration, LEASE_MARGIN_SECONDS, type HelperVerdict } from '../backup/leftoverClassification';
import { describeKubeError } from '../kube/describeKubeError';
import { withKubeRetry } from '../kube/retryTransient';
import { SnapshotApi } from './snapshotApi';
import { SNAPSHOT_CLAIM_COMPONENT, SNAPSHOT_COMPONENT } from './snapshotLabels';
import { DRILL_CLAIM_COMPONENT } from '../drill/drillClaim';

/** A VolumeSnapshot or temporary claim of a point-in-time backup or a restore drill, as the leftover sweep sees it. */
export interface SnapshotObject {
  kind: 'snapshot' | 'claim';
  namespace: string;
  name: string;
  runId?: string;
  /** The claim the backup was of. */
  pvc?: string;
  ageSeconds: number;
  verdict: HelperVerdict;
}

/** The run ids whose helper pods hold a fresh lease, per namespace: their snapshots are work in progress. */
export type LiveRuns = ReadonlySet<string>;
export const liveRunKey = (namespace: string, runId: string): string => `${namespace}/${runId}`;

/**
 * nkvm's VolumeSnapshots and temporary claims in the given namespaces (or the whole cluster). A cluster
 * without the snapshot API has no snapshots; one that forbids listing them is searched for claims only.
 */
export async function findSnapshotObjects(kubeConfig: KubeConfig, namespaces: readonly string[] | undefined, liveRuns: LiveRuns, now: number): Promise<SnapshotObject[]> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const snapshots = new SnapshotApi(kubeConfig);
  const scopes = namespaces ?? [undefined];
  const claimSelector = `${HELPER_COMPONENT_LABEL} in (${SNAPSHOT_CLAIM_COMPONENT},${DRILL_CLAIM_COMPONENT})`;
  const claims = (
    await Promise.all(
      scopes.map(async (namespace) => {
        try {
          const list = () =>
            namespace ? core.listNamespacedPersistentVolumeClaim({ namespace, labelSelector: claimSelector }) : core.listPersistentVolumeClaimForAllNamespaces({ labelSelector: claimSelector });
          return (await withKubeRetry(list)).items;
        } catch (e) {
          // Helpers are still found with the runtime permission alone, which may not list claims.
          if (describeKubeError(e).kind === 'forbidden') return [];
          throw e;
        }
      }),
    )
  ).flat();
  const cut = (
    await Promise.all(
      scopes.map((namespace) =>
        withKubeRetry(() => snapshots.list(namespace, `${HELPER_COMPONENT_LABEL}=${SNAPSHOT_COMPONENT}`)).catch((e) => {
          const kind = describeKubeError(e).kind;
          if (kind === 'notFound' || kind === 'forbidden') return [];
          throw e;
        }),
      ),
    )
  ).flat();
  return [
    ...claims.map((c) => objectOf('claim', c.metadata!, liveRuns, now, c.status?.phase)),
    ...cut.map((s) => objectOf('snapshot', s.metadata as V1ObjectMeta, liveRuns, now)),
  ];
}

function objectOf(kind: SnapshotObject['kind'], metadata: V1ObjectMeta, liveRuns: LiveRuns, now: number, phase?: string): SnapshotObject {
  const namespace = metadata.namespace!;
  const runId = metadata.labels?.[RUN_ID_LABEL];
  const created = metadata.creationTimestamp ? new Date(metadata.creationTimestamp).getTime() : now;
  const ageSeconds = Math.max(0, Math.round((now - created) / 1000));
  return { kind, namespace, name: metadata.name!, runId, pvc: metadata.labels?.[PVC_LABEL], ageSeconds, verdict: classify(metadata, runId, liveRuns, now, phase) };
}

/**
 * In use while a helper of the same run holds a fresh lease, or while the object's own lease (set when it
 * was made, long enough for the snapshot and the helper to start) has not run out; left over after that.
 */
function classify(metadata: V1ObjectMeta, runId: string | undefined, liveRuns: LiveRuns, now: number, phase?: string): HelperVerdict {
  if (metadata.deletionTimestamp) return { leftover: false, reason: 'it is already being deleted' };
  if (runId && liveRuns.has(liveRunKey(metadata.namespace!, runId))) return { leftover: false, reason: 'its backup is running: the helper reading it renews its lease' };
  const lease = readLease({ metadata });
  if (!lease) return { leftover: false, reason: 'it carries no lease, so it is left to whoever made it' };
  const since = Math.max(0, Math.round((now - lease.renewedAt) / 1000));
  const owner = describeOwner(lease.owner);
  if (since > lease.leaseSeconds + LEASE_MARGIN_SECONDS) {
    return { leftover: true, reason: `its backup ended without removing it: made by ${owner} ${duration(since)} ago, and no helper of that backup runs${phase ? ` (${phase})` : ''}` };
  }
  return { leftover: false, reason: `made by ${owner} ${duration(since)} ago for a backup that may still be starting (kept up to ${duration(lease.leaseSeconds)})` };
}

/** Deletes a leftover snapshot object; a claim's volume goes with it, a snapshot's content by its class's policy. */
export async function deleteSnapshotObject(kubeConfig: KubeConfig, object: Pick<SnapshotObject, 'kind' | 'namespace' | 'name'>): Promise<void> {
  const { namespace, name } = object;
  try {
    if (object.kind === 'claim') await withKubeRetry(() => kubeConfig.makeApiClient(CoreV1Api).deleteNamespacedPersistentVolumeClaim({ name, namespace }));
    else await withKubeRetry(() => new SnapshotApi(kubeConfig).delete(namespace, name));
  } catch (e) {
    if (describeKubeError(e).kind !== 'notFound') throw e;
  }
}
