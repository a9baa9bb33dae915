import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { HelperLease } from './helperLease';
import { PodChanges } from '../kube/podChanges';
import { createHelperPod, waitForHelperPod } from './helperPod';

export interface HelperStartOptions {
  namespace: string;
  timeoutSeconds: number;
  signal?: AbortSignal;
  onProblem?: (message: string) => void;
  /** Told the pod's name and lease as soon as the pod exists, so that a failure later still removes it. */
  onCreated: (name: string, lease: HelperLease) => void;
  /** Told when the pod exists and the wait for it to run begins. */
  onWait?: () => void;
}

/** Creates a helper pod, renews its lease from the start, and resolves with its name once its container runs. */
export async function startHelperPod(kubeConfig: KubeConfig, core: CoreV1Api, spec: V1Pod, options: HelperStartOptions): Promise<string> {
  options.signal?.throwIfAborted();
  const created = await createHelperPod(core, spec);
  const name = created.metadata!.name!;
  // Watched from its creation, so that the moment it runs ends the wait rather than the next poll.
  const changes = PodChanges.watch(kubeConfig, options.namespace, name, created.metadata?.resourceVersion);
  try {
    const lease = HelperLease.start(kubeConfig, { namespace: options.namespace, pod: name, spec, onProblem: options.onProblem });
    options.onCreated(name, lease);
    options.onWait?.();
    await waitForHelperPod(core, options.namespace, name, options.timeoutSeconds, options.signal, changes);
    await lease.containerRunning();
    return name;
  } finally {
    changes.stop();
  }
}
