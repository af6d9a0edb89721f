import type { NonceStore } from './oauth1-verifier';

/** Options of the in-memory nonce store. */
export type MemoryNonceStoreOptions = {
  /** Most nonces held at once; default 100,000. */
  maxEntries?: number;
  /** The clock, in milliseconds since the epoch. */
  now?: () => number;
};

type Entry = { expiresAt: number; timestamp: number };

/**
 * The nonces of one gateway replica, in memory. Several replicas need the shared RedisNonceStore
 * instead: a replay sent to another replica would not be seen here.
 *
 * Entries are forgotten when their time to live ends. When the store is full, the oldest entry
 * is dropped before its time, and from then on every timestamp up to the dropped one's is
 * refused as a possible replay. Under a flood of valid requests the store thus refuses old
 * timestamps (clients sign again) instead of ever accepting a nonce twice.
 */
export class MemoryNonceStore implements NonceStore {
  // Insertion order is oldest first, which is what both the sweep and the eviction want.
  private readonly entries = new Map<string, Entry>();
  private readonly maxEntries: number;
  private readonly now: () => number;
  private refusedUpTo = -Infinity;

  constructor(options: MemoryNonceStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  /** How many nonces are held. */
  get size(): number {
    return this.entries.size;
  }

  /** True when the nonce was new and is now remembered for ttlSeconds; false = replay. */
  remember(
    consumerKey: string,
    timestamp: number,
    nonce: string,
    ttlSeconds: number,
  ): Promise<boolean> {
    const now = this.now();
    this.sweep(now);

    if (timestamp <= this.refusedUpTo) return Promise.resolve(false);
    // JSON keeps the three parts apart whatever characters they hold.
    const key = JSON.stringify([consumerKey, timestamp, nonce]);
    const held = this.entries.get(key);
    if (held && held.expiresAt > now) return Promise.resolve(false);

    this.entries.delete(key);
    this.entries.set(key, { expiresAt: now + ttlSeconds * 1000, timestamp });
    if (this.entries.size > this.maxEntries) this.evictOldest();
    return Promise.resolve(true);
  }

  private sweep(now: number): void {
    // Entries have different lifetimes, so this stops at the first live one; the rest expire
    // on a later call or are found expired when looked up.
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt > now) return;
      this.entries.delete(key);
    }
  }

  private evictOldest(): void {
    const [key, entry] = this.entries.entries().next().value as [string, Entry];
    this.entries.delete(key);
    this.refusedUpTo = Math.max(this.refusedUpTo, entry.timestamp);
  }
}
