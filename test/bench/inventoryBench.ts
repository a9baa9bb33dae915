// Discovery of a large cluster: the whole inventory with cluster-wide paged lists (what an admin or
// the nkvm-cluster-discovery ClusterRole gets) against the per-namespace scan a user with only
// RoleBindings gets, on the same sandbox in the same run:
//   npm run bench:inventory                       (1,000 namespaces, 10,000 claims, 20,000 pods)
//   NKVM_BENCH_NAMESPACES=100 npm run bench:inventory   (a quick run at a tenth of the size)
// Prints figures only; it asserts nothing, so it is not part of the test run.
import { KubeConfig } from '@kubernetes/client-node';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { discoverVolumes } from '../../src/core/discovery/discoverVolumes';
import type { Inventory } from '../../src/core/discovery/volumeInventory';
import { KubeObject } from '../sandbox/api/objectStore';
import { rbacTypes } from '../sandbox/api/rbacPolicy';
import { enableRbac } from '../sandbox/clusterRbac';
import { findResourceType, ResourceType } from '../sandbox/resourceTypes';
import { RequestRecord, SandboxCluster } from '../sandbox/sandboxCluster';

const NAMESPACES = Number(process.env['NKVM_BENCH_NAMESPACES'] ?? 1000);
const ROUNDS = Number(process.env['NKVM_BENCH_ROUNDS'] ?? 3);
const SCOPED_USER = 'namespace-reader';

const type = (group: string, plural: string): ResourceType => findResourceType(group, 'v1', plural)!;
const t = {
  namespaces: type('', 'namespaces'),
  pvcs: type('', 'persistentvolumeclaims'),
  pods: type('', 'pods'),
  replicaSets: type('apps', 'replicasets'),
  jobs: type('batch', 'jobs'),
};

/**
 * Each namespace: a Deployment's ReplicaSet with 4 pods sharing one RWX claim, a StatefulSet with 4
 * pods each mounting its own claim, a CronJob's Job with 2 pods mounting one claim, 10 pods
 * mounting nothing, and 4 unused claims: 10 claims, 20 pods. Objects go straight into the store
 * (no provisioning, no kubelet) with the status a running cluster would show.
 */
function seedLargeCluster(cluster: SandboxCluster, namespaces: number): void {
  const put = (resource: ResourceType, object: KubeObject): KubeObject => cluster.store.create(resource, object);
  for (let n = 0; n < namespaces; n++) {
    const ns = `team-${String(n).padStart(4, '0')}`;
    put(t.namespaces, { metadata: { name: ns }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
    const claim = (name: string, modes: string[]): void =>
      void put(t.pvcs, {
        metadata: { name, namespace: ns },
        spec: { accessModes: modes, resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard', volumeName: `pvc-${ns}-${name}`, volumeMode: 'Filesystem' },
        status: { phase: 'Bound', accessModes: modes, capacity: { storage: '1Gi' } },
      });
    claim('web-uploads', ['ReadWriteMany']);
    for (let i = 0; i < 4; i++) claim(`data-db-${i}`, ['ReadWriteOnce']);
    claim('reports', ['ReadWriteMany']);
    for (let i = 0; i < 4; i++) claim(`archive-${i}`, ['ReadWriteOnce']);

    const rs = put(t.replicaSets, {
      metadata: { name: 'web-5d8f7c9b6', namespace: ns, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: `uid-${ns}-web`, controller: true }] },
      spec: { replicas: 4, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
      status: { replicas: 4, readyReplicas: 4 },
    });
    const job = put(t.jobs, {
      metadata: { name: 'report-29391840', namespace: ns, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'report', uid: `uid-${ns}-report`, controller: true }] },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'report', image: 'python:3.12-slim' }] } } },
      status: { active: 2 },
    });
    const owner = (o: KubeObject | { kind: string; name: string; uid: string; apiVersion: string }) =>
      'metadata' in o ? [{ apiVersion: o.apiVersion!, kind: o.kind!, name: o.metadata.name!, uid: o.metadata.uid!, controller: true }] : [{ ...o, controller: true }];
    const pod = (name: string, owners: ReturnType<typeof owner> | undefined, claimName?: string): void =>
      void put(t.pods, {
        metadata: { name, namespace: ns, labels: { app: name.split('-')[0] }, ...(owners ? { ownerReferences: owners } : {}) },
        spec: {
          nodeName: `node-${n % 50}`,
          containers: [{ name: 'main', image: 'busybox:1.36', ...(claimName ? { volumeMounts: [{ name: 'data', mountPath: '/data' }] } : {}), securityContext: { runAsUser: 1000 } }],
          volumes: claimName ? [{ name: 'data', persistentVolumeClaim: { claimName } }] : [],
          tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
        },
        status: { phase: 'Running', podIP: `10.${n % 250}.0.1` },
      });
    for (let i = 0; i < 4; i++) pod(`web-5d8f7c9b6-${i}x2kq`, owner(rs), 'web-uploads');
    for (let i = 0; i < 4; i++) pod(`db-${i}`, owner({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: `uid-${ns}-db` }), `data-db-${i}`);
    for (let i = 0; i < 2; i++) pod(`report-29391840-${i}k8m`, owner(job), 'reports');
    for (let i = 0; i < 10; i++) pod(`worker-${i}`, undefined);
  }
}

/**
 * A user with rights only inside namespaces: one RoleBinding per namespace to a ClusterRole that
 * lists what discovery reads, plus the right to list namespaces. Cluster-wide lists are refused,
 * so discovery falls back to one list per namespace.
 */
function namespaceScopedUser(cluster: SandboxCluster, namespaces: readonly string[]): KubeConfig {
  enableRbac(cluster);
  const token = 'namespace-reader-token';
  cluster.access.addToken(token, { username: SCOPED_USER, groups: ['system:authenticated'] });
  cluster.store.create(rbacTypes.clusterRoles, {
    metadata: { name: 'volume-reader' },
    rules: [
      { apiGroups: [''], resources: ['persistentvolumeclaims', 'pods'], verbs: ['list'] },
      { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['list'] },
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['list'] },
    ],
  });
  cluster.store.create(rbacTypes.clusterRoles, { metadata: { name: 'namespace-lister' }, rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['list'] }] });
  const subjects = [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: SCOPED_USER }];
  cluster.store.create(rbacTypes.clusterRoleBindings, { metadata: { name: 'namespace-lister' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'namespace-lister' }, subjects });
  for (const namespace of namespaces) {
    cluster.store.create(rbacTypes.roleBindings, { metadata: { name: 'volume-reader', namespace }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'volume-reader' }, subjects });
  }
  const kc = new KubeConfig();
  kc.loadFromString(cluster.kubeconfig({ token, user: SCOPED_USER, context: 'scoped' }));
  return kc;
}

interface Measured {
  ms: number;
  inventory: Inventory;
  requests: RequestRecord[];
}

async function measure(cluster: SandboxCluster, kubeConfig: KubeConfig): Promise<Measured> {
  const before = cluster.requests.length;
  const started = performance.now();
  const inventory = await discoverVolumes(kubeConfig, { maxNamespaceScan: 10_000, timeoutSeconds: 300 });
  return { ms: performance.now() - started, inventory, requests: cluster.requests.slice(before) };
}

/** Consumers and owners as text, to check both scans found the same inventory. */
function fingerprint(inventory: Inventory): string {
  return inventory.volumes.map((v) => `${v.namespace}/${v.name}:${v.consumers.map((c) => `${c.pod}<${c.owner?.kind}/${c.owner?.name}`).join(',')}`).join('\n');
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;
const countOf = (requests: RequestRecord[], resource: string): string => {
  const all = requests.filter((r) => r.resource === resource);
  const refused = all.filter((r) => r.status === 403).length;
  return refused ? `${all.length} (${refused} refused)` : String(all.length);
};

async function main(): Promise<void> {
  const cluster = await SandboxCluster.start();
  try {
    const seedStart = performance.now();
    seedLargeCluster(cluster, NAMESPACES);
    const names = cluster.store.listShared(t.namespaces).map((n) => n.metadata.name!);
    const scoped = namespaceScopedUser(cluster, names);
    const seedMs = performance.now() - seedStart;
    const admin = new KubeConfig();
    admin.loadFromString(cluster.kubeconfig());

    const runs: { label: string; kubeConfig: KubeConfig; rounds: Measured[] }[] = [
      { label: 'cluster-wide paged lists (admin, or the nkvm-cluster-discovery ClusterRole)', kubeConfig: admin, rounds: [] },
      { label: 'per namespace (RoleBindings only; cluster-wide lists refused)', kubeConfig: scoped, rounds: [] },
    ];
    for (let i = 1; i <= ROUNDS; i++) {
      for (const run of runs) {
        const m = await measure(cluster, run.kubeConfig);
        run.rounds.push(m);
        console.error(`round ${i}, ${run.label.split(' (')[0]}: ${(m.ms / 1000).toFixed(2)} s, ${m.requests.length} requests, ${m.inventory.volumes.length} volumes`);
      }
    }
    const reference = fingerprint(runs[0].rounds[0].inventory);
    const agree = runs.every((r) => r.rounds.every((m) => fingerprint(m.inventory) === reference));

    const pvcs = cluster.store.listShared(t.pvcs).length;
    const pods = cluster.store.listShared(t.pods).length;
    console.log('## Discovery of a large cluster\n');
    console.log(`Cluster: ${NAMESPACES} namespaces, ${pvcs} claims, ${pods} pods, ${cluster.store.listShared(t.replicaSets).length} ReplicaSets, ${cluster.store.listShared(t.jobs).length} Jobs (seeded in ${(seedMs / 1000).toFixed(1)} s). Rounds: ${ROUNDS}, alternating.`);
    console.log(`Machine: ${availableParallelism()} CPUs (${cpus()[0]?.model.trim()}), Node ${process.version}, load average ${loadavg()[0]!.toFixed(2)} at the end. Client and sandbox API server share this process.\n`);
    console.log(row(['scan', 'time, median (s)', 'each round (s)', 'requests', 'namespaces', 'claims', 'pods', 'replica sets', 'jobs', 'volumes found']));
    console.log(row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
    for (const run of runs) {
      const last = run.rounds[run.rounds.length - 1]!;
      const r = last.requests;
      console.log(
        row([
          run.label,
          (median(run.rounds.map((m) => m.ms)) / 1000).toFixed(2),
          run.rounds.map((m) => (m.ms / 1000).toFixed(2)).join(', '),
          r.length,
          countOf(r, 'namespaces'),
          countOf(r, 'persistentvolumeclaims'),
          countOf(r, 'pods'),
          countOf(r, 'replicasets'),
          countOf(r, 'jobs'),
          last.inventory.volumes.length,
        ]),
      );
    }
    const wide = runs[0].rounds[0].requests;
    const metadataOnly = wide.filter((r) => r.accept?.includes('as=PartialObjectMetadataList')).length;
    console.log(`\nBoth scans found the same volumes, consumers and owners: ${agree ? 'yes' : 'NO'}. Pages are 500 objects; ${metadataOnly} of the cluster-wide scan's ${wide.length} requests asked for metadata only (namespaces, ReplicaSets, Jobs).`);
  } finally {
    await cluster.stop();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exitCode = 1;
});
