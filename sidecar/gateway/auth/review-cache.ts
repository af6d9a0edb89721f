/** Options of a review cache. */
export type ReviewCacheOptions = {
  /** How long an answer is reused, in milliseconds. */
  ttlMs: number;
  /** Most answers kept; the oldest goes first beyond it. */
  maxEntries?: number;
  now?: () => number;
};

type Entry<T> = { value: T; expiresAt: number };

/**
 * Answers of the apiserver's reviews, reused for a short while: a client that sends a hundred
 * requests a second with one token costs one TokenReview and one SubjectAccessReview per
 * interval, not a hundred. Concurrent lookups of one key share a single review. Failures are not
 * kept, so an unreachable apiserver is asked again by the next request.
 */
export class ReviewCache<T> {
  // Insertion order is expiry order (one TTL for all), so the first entries go first.
  private readonly entries = new Map<string, Entry<T>>();
  private readonly pending = new Map<string, Promise<T>>();
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly options: ReviewCacheOptions) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** The cached answer for a key, or the one `review` gives (then kept for the TTL). */
  async get(key: string, review: () => Promise<T>): Promise<T> {
    const now = this.now();
    const held = this.entries.get(key);
    if (held && held.expiresAt > now) return held.value;

    const running = this.pending.get(key);
    if (running) return running;

    const started = review().then(
      (value) => {
        this.pending.delete(key);
        this.store(key, value);
        return value;
      },
      (err: unknown) => {
        this.pending.delete(key);
        throw err;
      },
    );
    this.pending.set(key, started);
    return started;
  }

  /** How many answers are held. */
  get size(): number {
    return this.entries.size;
  }

  private store(key: string, value: T): void {
    const now = this.now();
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: now + this.options.ttlMs });

    for (const [oldKey, entry] of this.entries) {
      if (entry.expiresAt > now && this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldKey);
    }
  }
}
