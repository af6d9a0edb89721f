/** Bounds of an exponential backoff: the first delay doubles on each failure up to the cap. */
export type BackoffOptions = {
  /** The first delay, in milliseconds. */
  initialMs: number;
  /** The longest delay, in milliseconds. */
  maxMs: number;
};

/** The delay before retry number `failures` (0 for the first retry), doubling up to the cap. */
export function backoffDelayMs(options: BackoffOptions, failures: number): number {
  // Past 2^40 the doubling only overflows: every value there is already the cap.
  const exponent = Math.min(failures, 40);
  return Math.min(options.initialMs * 2 ** exponent, options.maxMs);
}

/** Counts consecutive failures of one thing and says how long to wait before the next try. */
export class Backoff {
  private failures = 0;

  constructor(private readonly options: BackoffOptions) {}

  /** Records a failure and returns the delay to wait before retrying. */
  next(): number {
    const delay = backoffDelayMs(this.options, this.failures);
    this.failures += 1;
    return delay;
  }

  /** Forgets past failures, after a success. */
  reset(): void {
    this.failures = 0;
  }
}
