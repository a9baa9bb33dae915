import { findResourceType, ResourceType } from '../resourceTypes';

function typeOf(group: string, plural: string): ResourceType {
  const t = findResourceType(group, 'v1', plural);
  if (!t) throw new Error(`unknown resource ${plural}`);
  return t;
}

/** The resource types the cluster's controllers work with. */
export const types = {
  namespaces: typeOf('', 'namespaces'),
  nodes: typeOf('', 'nodes'),
  pods: typeOf('', 'pods'),
  events: typeOf('', 'events'),
  pvcs: typeOf('', 'persistentvolumeclaims'),
  pvs: typeOf('', 'persistentvolumes'),
  storageClasses: typeOf('storage.k8s.io', 'storageclasses'),
  snapshotClasses: typeOf('snapshot.storage.k8s.io', 'volumesnapshotclasses'),
  snapshots: typeOf('snapshot.storage.k8s.io', 'volumesnapshots'),
  snapshotContents: typeOf('snapshot.storage.k8s.io', 'volumesnapshotcontents'),
};
