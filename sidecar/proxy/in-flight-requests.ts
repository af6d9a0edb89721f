/**
 * Counts the requests a server is serving, so that a graceful stop can wait for them: up to a
 * deadline, after which the caller ends what is left rather than outlive the pod's grace period.
 */
export class InFlightRequests {
  private count = 0;
  private drained: (() => void) | undefined;

  /** Requests being served now. */
  get size(): number {
    return this.count;
  }

  started(): void {
    this.count++;
  }

  finished(): void {
    if (--this.count === 0) this.drained?.();
  }

  /** Resolves true once none is in flight, or false when `timeoutMs` passes first. */
  drainWithin(timeoutMs: number | undefined): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer =
        timeoutMs === undefined ? undefined : setTimeout(() => resolve(false), timeoutMs);
      this.drained = () => {
        clearTimeout(timer);
        this.drained = undefined;
        resolve(true);
      };
    });
  }
}
