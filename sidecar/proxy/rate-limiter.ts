import type { RateLimitStore } from './rate-limit-store';

/** Options of the per-source token bucket. */
export type RateLimiterOptions = {
  /** Tokens added per second. */
  rate: number;
  /** Bucket size: how many requests may come at once. */
  burst: number;
  /** Most sources tracked at once; the least recently seen is evicted beyond it. */
  maxEntries?: number;
  /** Slots of the table that remembers evicted sources' balances. */
  evictedSlots?: number;
  now?: () => number;
};

/**
 * The verdict on one request: allowed, or refused with the seconds to wait. `storeUnavailable`
 * marks a refusal made because the shared store could not be asked (fail-closed), not because
 * the source went over its rate.
 */
export type RateDecision =
  { allowed: true } | { allowed: false; retryAfterSeconds: number; storeUnavailable?: true };

type Bucket = { tokens: number; at: number };

/**
 * Token buckets per source IP with bounded memory.
 *
 * Live buckets sit in a Map used as an LRU (a hit moves the entry to the end). When the map is
 * full the least recently seen source is evicted, but its balance is not forgotten: it goes
 * into a fixed-size table indexed by a hash of the address. A source that returns builds its
 * new bucket from that slot, so eviction can never hand out a full bucket early. When two
 * sources share a slot the lower balance is kept: a collision can only make a newcomer wait a
 * little (at most burst/rate seconds until its bucket refills), never let anyone through faster.
 * The choice trades that small unfairness for memory that does not grow with the number of
 * addresses an attacker can rotate through.
 */
export class RateLimiter implements RateLimitStore {
  private readonly buckets = new Map<string, Bucket>();
  private readonly evictedTokens: Float64Array;
  private readonly evictedAt: Float64Array;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly options: RateLimiterOptions) {
    this.maxEntries = options.maxEntries ?? 10_000;
    const slots = options.evictedSlots ?? 4096;
    this.evictedTokens = new Float64Array(slots);
    // NaN marks an empty slot: nobody was evicted there yet.
    this.evictedAt = new Float64Array(slots).fill(NaN);
    this.now = options.now ?? (() => performance.now());
  }

  /** How many sources have a live bucket. */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes one token for a source, or says how long to wait for one. */
  take(source: string): RateDecision {
    const now = this.now();
    const bucket = this.bucketOf(source, now);

    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    const waitSeconds = (1 - bucket.tokens) / this.options.rate;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitSeconds)) };
  }

  private bucketOf(source: string, now: number): Bucket {
    const live = this.buckets.get(source);
    if (live) {
      this.buckets.delete(source);
      this.buckets.set(source, live);
      this.refill(live, now);
      return live;
    }

    const bucket = { tokens: this.returningBalance(source, now), at: now };
    this.buckets.set(source, bucket);
    if (this.buckets.size > this.maxEntries) this.evictOldest(now);
    return bucket;
  }

  private refill(bucket: Bucket, now: number): void {
    const elapsed = Math.max(0, now - bucket.at) / 1000;
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + elapsed * this.options.rate);
    bucket.at = now;
  }

  private returningBalance(source: string, now: number): number {
    const slot = this.slotOf(source);
    const at = this.evictedAt[slot];
    if (Number.isNaN(at)) return this.options.burst;
    const bucket = { tokens: this.evictedTokens[slot], at };
    this.refill(bucket, now);
    return bucket.tokens;
  }

  private evictOldest(now: number): void {
    const [source, bucket] = this.buckets.entries().next().value as [string, Bucket];
    this.buckets.delete(source);
    this.refill(bucket, now);
    if (bucket.tokens >= this.options.burst) return;

    const slot = this.slotOf(source);
    if (!Number.isNaN(this.evictedAt[slot])) {
      const held = { tokens: this.evictedTokens[slot], at: this.evictedAt[slot] };
      this.refill(held, now);
      if (held.tokens <= bucket.tokens) return;
    }
    this.evictedTokens[slot] = bucket.tokens;
    this.evictedAt[slot] = now;
  }

  private slotOf(source: string): number {
    // FNV-1a: fast, good enough spread for addresses, no allocation.
    let hash = 0x811c9dc5;
    for (let i = 0; i < source.length; i++) {
      hash ^= source.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    return (hash >>> 0) % this.evictedTokens.length;
  }
}
