import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';

/** The CSI snapshot API (external-snapshotter CRDs), as GA since Kubernetes 1.20. */
export const SNAPSHOT_GROUP = 'snapshot.storage.k8s.io';
export const SNAPSHOT_VERSION = 'v1';
export const SNAPSHOT_API_VERSION = `${SNAPSHOT_GROUP}/${SNAPSHOT_VERSION}`;
export const DEFAULT_SNAPSHOT_CLASS_ANNOTATION = 'snapshot.storage.kubernetes.io/is-default-class';

export interface VolumeSnapshotClass {
  metadata: { name: string; annotations?: Record<string, string> };
  driver: string;
  deletionPolicy: 'Delete' | 'Retain';
  parameters?: Record<string, string>;
}

export interface VolumeSnapshot {
  apiVersion?: string;
  kind?: string;
  metadata: { name?: string; generateName?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; creationTimestamp?: string };
  spec: { source: { persistentVolumeClaimName?: string; volumeSnapshotContentName?: string }; volumeSnapshotClassName?: string };
  status?: {
    readyToUse?: boolean;
    creationTime?: string;
    restoreSize?: string;
    boundVolumeSnapshotContentName?: string;
    error?: { message?: string; time?: string };
  };
}

const classes = { group: SNAPSHOT_GROUP, version: SNAPSHOT_VERSION, plural: 'volumesnapshotclasses' };
const snapshots = { group: SNAPSHOT_GROUP, version: SNAPSHOT_VERSION, plural: 'volumesnapshots' };

/** The typed calls the backup makes; CustomObjectsApi returns untyped objects. */
export class SnapshotApi {
  private readonly api: CustomObjectsApi;

  constructor(kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async listClasses(): Promise<VolumeSnapshotClass[]> {
    const list = (await this.api.listClusterCustomObject(classes)) as { items?: VolumeSnapshotClass[] };
    return list.items ?? [];
  }

  async create(namespace: string, body: VolumeSnapshot): Promise<VolumeSnapshot> {
    return (await this.api.createNamespacedCustomObject({ ...snapshots, namespace, body })) as VolumeSnapshot;
  }

  async get(namespace: string, name: string): Promise<VolumeSnapshot> {
    return (await this.api.getNamespacedCustomObject({ ...snapshots, namespace, name })) as VolumeSnapshot;
  }

  async delete(namespace: string, name: string): Promise<void> {
    await this.api.deleteNamespacedCustomObject({ ...snapshots, namespace, name });
  }

  async list(namespace: string | undefined, labelSelector: string): Promise<VolumeSnapshot[]> {
    const list = (
      namespace
        ? await this.api.listNamespacedCustomObject({ ...snapshots, namespace, labelSelector })
        : await this.api.listClusterCustomObject({ ...snapshots, labelSelector })
    ) as { items?: VolumeSnapshot[] };
    return list.items ?? [];
  }
}
