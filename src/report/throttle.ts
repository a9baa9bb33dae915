/**
 * Runs `action` at most once per `intervalMs`: the first request runs at once, requests during
 * the interval collapse into one run at its end. Keeps a busy run from flooding the webview.
 */
export class Throttle {
  private lastRun = Number.NEGATIVE_INFINITY;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;

  constructor(
    private readonly action: () => void,
    private readonly intervalMs: number,
  ) {}

  schedule(): void {
    if (this.disposed || this.timer !== undefined) return;
    const wait = this.lastRun + this.intervalMs - Date.now();
    if (wait <= 0) {
      this.run();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.disposed) this.run();
    }, wait);
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private run(): void {
    this.lastRun = Date.now();
    this.action();
  }
}
