import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeObject } from './api/objectStore';
import { findResourceType, ResourceType, resourceTypes } from './resourceTypes';
import { SandboxCluster } from './sandboxCluster';

const fileName = 'cluster.json';
// Objects that others refer to come first so that loading replays creation in a valid order.
const order = ['Node', 'StorageClass', 'VolumeSnapshotClass', 'Namespace', 'PersistentVolume', 'PersistentVolumeClaim', 'VolumeSnapshot', 'VolumeSnapshotContent', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'ReplicaSet', 'Job', 'Pod'];

/** Saves the cluster's objects (not events) next to its volume data, so `--data` survives a restart. */
export function saveCluster(cluster: SandboxCluster): void {
  const objects: KubeObject[] = [];
  for (const kind of order) {
    const type = resourceTypes.find((t) => t.kind === kind)!;
    for (const o of cluster.store.list(type)) {
      if (o.metadata.deletionTimestamp) continue;
      objects.push({ ...o, apiVersion: o.apiVersion, kind: o.kind });
    }
  }
  const path = join(cluster.data.root, fileName);
  writeFileSync(`${path}.tmp`, JSON.stringify({ objects }, null, 1));
  renameSync(`${path}.tmp`, path);
}

/** Loads saved objects; returns false when the folder holds no saved cluster. */
export function loadCluster(cluster: SandboxCluster): boolean {
  const path = join(cluster.data.root, fileName);
  if (!existsSync(path)) return false;
  const { objects } = JSON.parse(readFileSync(path, 'utf8')) as { objects: KubeObject[] };
  const uids = new Map<string, string>();
  for (const o of objects) {
    const oldUid = o.metadata.uid;
    const statusToKeep = o.kind === 'Pod' ? undefined : o.status;
    const { uid: _u, resourceVersion: _r, creationTimestamp: _c, ...meta } = o.metadata;
    const ownerReferences = meta.ownerReferences?.map((r) => ({ ...r, uid: uids.get(r.uid) ?? r.uid }));
    const [created] = cluster.seed({ ...o, metadata: { ...meta, ...(ownerReferences ? { ownerReferences } : {}) }, ...(statusToKeep ? { status: statusToKeep } : { status: undefined }) });
    if (oldUid) uids.set(oldUid, created.metadata.uid!);
  }
  relinkReferences(cluster, uids);
  return true;
}

/** Volumes and snapshot contents name their claim or snapshot by uid too: point them at the reloaded objects. */
function relinkReferences(cluster: SandboxCluster, uids: Map<string, string>): void {
  const relink = (type: ResourceType, field: 'claimRef' | 'volumeSnapshotRef'): void => {
    for (const o of cluster.store.list(type)) {
      const ref = (o.spec as Record<string, { uid?: string } | undefined> | undefined)?.[field];
      const uid = ref?.uid && uids.get(ref.uid);
      if (uid) cluster.store.mutate(type, undefined, o.metadata.name!, (c) => ((c.spec as Record<string, { uid?: string }>)[field].uid = uid));
    }
  };
  relink(findResourceType('', 'v1', 'persistentvolumes')!, 'claimRef');
  relink(findResourceType('snapshot.storage.k8s.io', 'v1', 'volumesnapshotcontents')!, 'volumeSnapshotRef');
}
