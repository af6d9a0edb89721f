import { backoffDelayMs, type BackoffOptions } from './backoff';

/** Processes one key taken from the queue. A rejection requeues the key with backoff. */
export type KeyProcessor<K> = (key: K) => Promise<void>;

/** How a WorkQueue spaces out the retries of a failing key. */
export type WorkQueueOptions = {
  /** Backoff of `addRateLimited`: default 200 ms doubling up to 5 minutes. */
  backoff?: BackoffOptions;
};

/** client-go's default per-item backoff: quick first retries, a patient cap. */
export const DEFAULT_QUEUE_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 5 * 60_000 };

type DelayedKey = { timer: NodeJS.Timeout; dueAt: number };

/**
 * A queue of keys to reconcile, modelled on client-go's workqueue. A key added while it waits is
 * kept once; a key added while a worker processes it runs again after that worker finishes, so
 * one key is never processed by two workers at a time. Reconciles are level-based: what matters
 * is that the key runs after the change, not how many times it was added.
 */
export class WorkQueue<K = string> {
  private readonly waiting: K[] = [];
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly delayed = new Map<K, DelayedKey>();
  private readonly failures = new Map<K, number>();
  private readonly backoff: BackoffOptions;
  private processor: KeyProcessor<K> | undefined;
  private workers = 0;
  private shuttingDown = false;
  private drained: (() => void) | undefined;

  constructor(options: WorkQueueOptions = {}) {
    this.backoff = options.backoff ?? DEFAULT_QUEUE_BACKOFF;
  }

  /** Keys waiting for a worker (not those being processed or scheduled for later). */
  get depth(): number {
    return this.waiting.length;
  }

  /** True once `shutDown` was called: adds are ignored from then on. */
  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Queues a key now. */
  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;

    this.dirty.add(key);
    // A key in a worker's hands is queued again when that worker is done with it.
    if (this.processing.has(key)) return;

    this.waiting.push(key);
    this.dispatch();
  }

  /** Queues a key after a delay; an earlier pending schedule for the same key wins. */
  addAfter(key: K, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }

    const dueAt = Date.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.dueAt <= dueAt) return;
    if (pending) clearTimeout(pending.timer);

    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { timer, dueAt });
  }

  /** Queues a key after its backoff delay, which doubles on each call until `forget`. */
  addRateLimited(key: K): number {
    const failures = this.failures.get(key) ?? 0;
    const delay = backoffDelayMs(this.backoff, failures);
    this.failures.set(key, failures + 1);
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets a key's backoff, after it was processed successfully. */
  forget(key: K): void {
    this.failures.delete(key);
  }

  /** How many times in a row the key was requeued with backoff. */
  retries(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /** Starts `workers` concurrent workers that hand each key to `processor`. Call once. */
  run(processor: KeyProcessor<K>, workers = 1): void {
    if (this.processor) throw new Error('WorkQueue.run was already called');
    if (!Number.isInteger(workers) || workers < 1) throw new Error('workers must be at least 1');

    this.processor = processor;
    this.workers = workers;
    this.dispatch();
  }

  /**
   * Stops taking work: queued and scheduled keys are dropped, new adds ignored. Resolves when
   * the keys already in workers' hands are done.
   */
  shutDown(): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.waiting.length = 0;
    this.dirty.clear();

    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.drained = resolve));
  }

  private dispatch(): void {
    const processor = this.processor;
    if (!processor) return;

    while (!this.shuttingDown && this.processing.size < this.workers && this.waiting.length > 0) {
      const key = this.waiting.shift() as K;
      this.dirty.delete(key);
      this.processing.add(key);
      void this.process(processor, key);
    }
  }

  private async process(processor: KeyProcessor<K>, key: K): Promise<void> {
    try {
      await processor(key);
    } catch {
      // The processor owns error reporting; the queue only makes sure the key is retried.
      this.addRateLimited(key);
    }
    this.processing.delete(key);

    if (this.shuttingDown) {
      if (this.processing.size === 0) this.drained?.();
      return;
    }

    // Added again while it ran: it goes to the back of the line, not straight back to a worker.
    if (this.dirty.has(key)) this.waiting.push(key);
    this.dispatch();
  }
}
