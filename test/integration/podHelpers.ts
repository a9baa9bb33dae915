import { CoreV1Api, Exec, V1Pod, V1Status } from '@kubernetes/client-node';
import { PassThrough, Writable } from 'node:stream';
import { SandboxFixture } from './sandboxFixture';

export function readerPod(name: string, namespace: string, claim: string, extra: Partial<V1Pod['spec']> = {}): V1Pod {
  return {
    metadata: { name, namespace },
    spec: {
      containers: [{ name: 'main', image: 'alpine:3.20', command: ['sleep', 'infinity'], volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }] }],
      volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }],
      ...extra,
    },
  };
}

/** Runs a command through client-node's Exec and collects stdout, stderr and the final status. */
export function execCollect(sb: SandboxFixture, namespace: string, pod: string, command: string[], stdin?: Buffer): Promise<{ stdout: Buffer; stderr: string; status: V1Status }> {
  const exec = new Exec(sb.kubeConfig);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (chunks: Buffer[]): Writable => new Writable({ write: (c, _e, cb) => (chunks.push(Buffer.from(c)), cb()) });
  let input: PassThrough | null = null;
  if (stdin) {
    input = new PassThrough();
    input.end(stdin);
  }
  return new Promise((resolve, reject) => {
    exec
      .exec(namespace, pod, 'main', command, sink(out), sink(err), input, false, (status) => {
        // Status arrives before the socket closes; let the last frames land.
        setTimeout(() => resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString(), status }), 50);
      })
      .catch(reject);
  });
}

/** Deletes every pod of a namespace at once, so that a test's ReadWriteOnce claims are free for the next. */
export async function deletePodsNow(core: CoreV1Api, namespace: string): Promise<void> {
  for (const p of (await core.listNamespacedPod({ namespace })).items) {
    await core.deleteNamespacedPod({ name: p.metadata!.name!, namespace, gracePeriodSeconds: 0 });
  }
}
