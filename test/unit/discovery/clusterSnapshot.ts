import type { V1Job, V1Namespace, V1PersistentVolumeClaim, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Lists recorded from the sandbox cluster by `fixtures/recordFixtures.ts`. */
export interface ClusterSnapshot {
  namespaces: V1Namespace[];
  claims: V1PersistentVolumeClaim[];
  pods: V1Pod[];
  replicaSets: V1ReplicaSet[];
  jobs: V1Job[];
}

/** `demoCluster` is the seeded demo; `edgeCases` adds an unowned read-only pod, an ephemeral volume, a bare ReplicaSet and a lone Job. */
export function loadSnapshot(name: 'demoCluster' | 'edgeCases'): ClusterSnapshot {
  return JSON.parse(readFileSync(join(__dirname, 'fixtures', `${name}.json`), 'utf8')) as ClusterSnapshot;
}
