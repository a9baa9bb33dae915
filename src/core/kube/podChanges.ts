import { Watch, type KubeConfig } from '@kubernetes/client-node';

/**
 * Wakes a wait loop as soon as a pod changes, so that a pod which starts (or goes) is seen at once, not at the
 * next poll. The watch (from the version the caller knows, as `kubectl wait` does) is only a wake-up: the loop
 * still reads the pod and keeps polling, so a watch that is refused (a role without `watch`), dropped, or
 * never answered costs nothing but the speed.
 */
export class PodChanges {
  private changed = false;
  private wake?: () => void;
  private controller?: AbortController;
  private stopped = false;

  private constructor() {}

  static watch(kubeConfig: KubeConfig, namespace: string, name: string, resourceVersion?: string): PodChanges {
    const changes = new PodChanges();
    void changes.start(kubeConfig, namespace, name, resourceVersion);
    return changes;
  }

  private async start(kubeConfig: KubeConfig, namespace: string, name: string, resourceVersion: string | undefined): Promise<void> {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
    const query = { fieldSelector: `metadata.name=${name}`, resourceVersion, timeoutSeconds: 600 };
    try {
      const controller = await new Watch(kubeConfig).watch(path, query, () => this.notify(), () => undefined);
      if (this.stopped) controller.abort();
      else this.controller = controller;
    } catch {
      // Polling alone, as before.
    }
  }

  private notify(): void {
    this.changed = true;
    this.wake?.();
  }

  /** Resolves after `ms`, or as soon as the pod changes (at once when it changed since the last call). */
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (!this.changed) {
      await new Promise<void>((resolve, reject) => {
        const finish = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.wake = undefined;
        };
        const onAbort = (): void => {
          finish();
          reject(signal!.reason);
        };
        const timer = setTimeout(() => (finish(), resolve()), ms);
        this.wake = () => (finish(), resolve());
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    this.changed = false;
  }

  stop(): void {
    this.stopped = true;
    this.wake = undefined;
    this.controller?.abort();
  }
}
