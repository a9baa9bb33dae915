/**
 * One piece of work at a time, cancellable. The running state is taken synchronously, before the
 * work's first `await`, so two quick starts cannot both run (the first would become uncancellable).
 */
export class SingleFlight {
  private running?: AbortController;
  private settled: Promise<void> = Promise.resolve();

  get isRunning(): boolean {
    return !!this.running;
  }

  /** Starts `work` with a signal of its own, or returns undefined when work is already running. */
  start<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> | undefined {
    if (this.running) return undefined;
    const controller = new AbortController();
    this.running = controller;
    const finished = work(controller.signal).finally(() => {
      if (this.running === controller) this.running = undefined;
    });
    this.settled = finished.then(
      () => undefined,
      () => undefined,
    );
    return finished;
  }

  /** Aborts the running work; false when nothing runs. */
  cancel(reason: string): boolean {
    if (!this.running) return false;
    this.running.abort(new Error(reason));
    return true;
  }

  /** Aborts the running work and resolves once it has settled (its helpers deleted), or after `timeoutMs`. */
  async stop(reason: string, timeoutMs: number): Promise<void> {
    if (!this.cancel(reason)) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    try {
      await Promise.race([this.settled, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
