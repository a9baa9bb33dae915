import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KubeObject } from './api/objectStore';
import { SandboxCluster } from './sandboxCluster';

/** A block-storage CSI driver: volumes are formatted ext4, the kubelet applies fsGroup to ReadWriteOnce ones. */
const BLOCK_CSI_DRIVER = 'disk.csi.sandbox.nkvm.dev';
/** Another block-storage CSI driver, with no VolumeSnapshotClass: its claims can only be backed up live. */
const HDD_CSI_DRIVER = 'hdd.csi.sandbox.nkvm.dev';
/** Hands out 0777 folders of an NFS export, which the kubelet never re-owns. */
const NFS_PROVISIONER = 'cluster.local/nfs-subdir-external-provisioner';

/**
 * Demo inventory: three nodes, workloads owning pods that mount claims, an unused claim and a Pending one.
 * Claims of `standard` can be snapshotted (csi-snapclass); reports (NFS) cannot, nor would a claim of
 * archive-hdd, whose CSI driver has no VolumeSnapshotClass.
 */
export function seedDemo(cluster: SandboxCluster): void {
  cluster.seed(
    node('node-a', 'zone-a'),
    node('node-b', 'zone-b'),
    { ...node('node-c', 'zone-c'), spec: { taints: [{ key: 'dedicated', value: 'storage', effect: 'NoSchedule' }] } },
    storageClass('standard', 'Immediate', true, BLOCK_CSI_DRIVER),
    storageClass('local-wait', 'WaitForFirstConsumer', false, BLOCK_CSI_DRIVER),
    storageClass('shared-nfs', 'Immediate', false, NFS_PROVISIONER),
    storageClass('archive-hdd', 'Immediate', false, HDD_CSI_DRIVER),
    snapshotClass('csi-snapclass', BLOCK_CSI_DRIVER),
    ...['default', 'kube-system', 'shop', 'analytics', 'media'].map(namespace),
    claim('shop', 'storefront-uploads', '5Gi', ['ReadWriteOnce']),
    claim('shop', 'data-orders-db-0', '10Gi', ['ReadWriteOnce']),
    claim('analytics', 'reports', '2Gi', ['ReadWriteMany'], 'shared-nfs'),
    claim('media', 'archive-2019', '20Gi', ['ReadWriteOnce']),
    claim('media', 'scratch', '1Gi', ['ReadWriteOnce'], 'fast-nvme'),
  );
  writeDemoFiles(cluster);

  const [deploy] = cluster.seed(workload('apps/v1', 'Deployment', 'shop', 'storefront'));
  const [rs] = cluster.seed(workload('apps/v1', 'ReplicaSet', 'shop', 'storefront-7d9c8b6f5', deploy));
  const [sts] = cluster.seed(workload('apps/v1', 'StatefulSet', 'shop', 'orders-db'));
  const [cron] = cluster.seed(workload('batch/v1', 'CronJob', 'analytics', 'nightly-report'));
  const [job] = cluster.seed(workload('batch/v1', 'Job', 'analytics', 'nightly-report-29391840', cron));
  const [ds] = cluster.seed(workload('apps/v1', 'DaemonSet', 'kube-system', 'node-exporter'));
  cluster.seed(
    pod('shop', 'storefront-7d9c8b6f5-x2kqp', rs, 'nginx:1.27', [{ claim: 'storefront-uploads', mountPath: '/usr/share/nginx/html/uploads' }], { runAsUser: 101, runAsGroup: 101 }),
    pod('shop', 'orders-db-0', sts, 'postgres:16', [{ claim: 'data-orders-db-0', mountPath: '/var/lib/postgresql/data' }], { runAsUser: 999, runAsGroup: 999 }, [
      { key: 'dedicated', operator: 'Equal', value: 'storage', effect: 'NoSchedule' },
    ]),
    pod('analytics', 'nightly-report-29391840-8xk2m', job, 'python:3.12-slim', [{ claim: 'reports', mountPath: '/reports' }]),
    pod('kube-system', 'node-exporter-4hq7t', ds, 'prom/node-exporter:v1.8.2', []),
  );
}

function writeDemoFiles(cluster: SandboxCluster): void {
  const write = (ns: string, pvc: string, files: Record<string, string | Buffer>, extra?: (root: string) => void): void => {
    const root = cluster.volumePath(ns, pvc);
    // The demo volumes hold what their workloads left long ago: open to the workloads' users, without
    // the lost+found a fresh ext4 volume has, as they were before volumes were provisioned like real disks.
    chmodSync(root, 0o777);
    rmSync(join(root, 'lost+found'), { recursive: true, force: true });
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(dirname(join(root, rel)), { recursive: true });
      writeFileSync(join(root, rel), content);
    }
    extra?.(root);
  };
  write(
    'shop',
    'storefront-uploads',
    {
      'index.html': '<!doctype html><title>Storefront uploads</title>\n',
      'images/2026/11/product-0001.jpg': pseudoRandom(1, 700_000),
      'images/2026/11/product-0002.jpg': pseudoRandom(2, 450_000),
      'images/2026/10/banner.png': pseudoRandom(3, 300_000),
      'docs/Ünïcødé résumé 名前.txt': 'Non-ASCII names must survive a backup and a restore.\n',
    },
    (root) => {
      mkdirSync(join(root, 'cache/empty'), { recursive: true });
      symlinkSync('images/2026/11', join(root, 'latest'));
      symlinkSync('../index.html', join(root, 'docs/home.html'));
    },
  );
  write('shop', 'data-orders-db-0', {
    'pgdata/PG_VERSION': '16\n',
    'pgdata/postgresql.conf': 'listen_addresses = \'*\'\nmax_connections = 100\n',
    'pgdata/base/16384/2619': textBlock('order', 12_000),
    'pgdata/base/16384/2840': pseudoRandom(4, 900_000),
    'pgdata/pg_wal/000000010000000000000001': pseudoRandom(5, 1_000_000),
  });
  write('analytics', 'reports', {
    'daily/2026-11-26.csv': textBlock('sales', 20_000),
    'daily/2026-11-27.csv': textBlock('sales', 21_000),
    'summary/README.md': '# Nightly reports\nGenerated by the nightly-report CronJob.\n',
  });
  write('media', 'archive-2019', {
    'photos/2019/holiday/IMG_0001.raw': pseudoRandom(6, 1_200_000),
    'photos/2019/holiday/IMG_0002.raw': pseudoRandom(7, 800_000),
    'notes.txt': 'Nothing mounts this claim; it can be backed up at any time.\n',
  });
}

function node(name: string, zone: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'topology.kubernetes.io/zone': zone } },
    spec: {},
    status: {
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
      capacity: { cpu: '4', memory: '16Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '16Gi', pods: '110' },
      nodeInfo: { kubeletVersion: 'v1.32.4', osImage: 'Sandbox Linux', containerRuntimeVersion: 'containerd://1.7.24', architecture: 'amd64', operatingSystem: 'linux' },
    },
  };
}

function storageClass(name: string, mode: string, isDefault: boolean, provisioner: string): KubeObject {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name, annotations: isDefault ? { 'storageclass.kubernetes.io/is-default-class': 'true' } : {} },
    provisioner,
    reclaimPolicy: 'Delete',
    volumeBindingMode: mode,
    allowVolumeExpansion: true,
  };
}

/** The default snapshot class of a CSI driver, as a driver's installation manifests ship one. */
function snapshotClass(name: string, driver: string): KubeObject {
  return {
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshotClass',
    metadata: { name, annotations: { 'snapshot.storage.kubernetes.io/is-default-class': 'true' } },
    driver,
    deletionPolicy: 'Delete',
  };
}

function namespace(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

function claim(ns: string, name: string, size: string, accessModes: string[], storageClassName = 'standard'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: ns },
    spec: { accessModes, resources: { requests: { storage: size } }, storageClassName },
  };
}

function workload(apiVersion: string, kind: string, ns: string, name: string, owner?: KubeObject): KubeObject {
  return {
    apiVersion,
    kind,
    metadata: { name, namespace: ns, labels: { app: name.replace(/-[a-z0-9]+$/, '') }, ...(owner ? { ownerReferences: [ownerRef(owner)] } : {}) },
    spec: {},
  };
}

function ownerRef(owner: KubeObject): NonNullable<KubeObject['metadata']['ownerReferences']>[number] {
  return { apiVersion: owner.apiVersion!, kind: owner.kind!, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true };
}

function pod(
  ns: string,
  name: string,
  owner: KubeObject,
  image: string,
  mounts: { claim: string; mountPath: string }[],
  securityContext?: { runAsUser: number; runAsGroup: number },
  tolerations?: object[],
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: owner.metadata.name! }, ownerReferences: [ownerRef(owner)] },
    spec: {
      containers: [{ name: 'main', image, volumeMounts: mounts.map((m) => ({ name: m.claim, mountPath: m.mountPath })) }],
      volumes: mounts.map((m) => ({ name: m.claim, persistentVolumeClaim: { claimName: m.claim } })),
      ...(securityContext ? { securityContext } : {}),
      ...(tolerations ? { tolerations } : {}),
    },
  };
}

/** Deterministic incompressible bytes, so archives have realistic sizes. */
function pseudoRandom(seed: number, size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function textBlock(word: string, lines: number): string {
  const rows: string[] = [];
  for (let i = 0; i < lines; i++) rows.push(`${i},${word}-${(i * 7919) % 10007},${(i * 31) % 997}.${i % 100}`);
  return rows.join('\n') + '\n';
}
