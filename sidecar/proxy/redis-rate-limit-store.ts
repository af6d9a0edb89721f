import type { Redis } from 'ioredis';

import type { Logger } from '../../core/log/logger';
import { runGcra } from './rate-limit-script';
import { canonicalAddress, type RateLimitStore } from './rate-limit-store';
import { RateLimiter, type RateDecision } from './rate-limiter';

/** What a replica does while Redis cannot be reached. */
export type RateLimitFailMode = 'open' | 'closed';

/** Options of the shared rate limit. */
export type RedisRateLimitStoreOptions = {
  redis: Redis;
  /** Requests per second allowed per source address, across all replicas. */
  rate: number;
  /** Requests a source may send at once before the rate applies. */
  burst: number;
  /**
   * `open`: each replica applies the limit on its own in memory, so a source gets at most the
   * rate times the number of replicas. `closed`: every request is refused until Redis is back.
   */
  failMode: RateLimitFailMode;
  log: Logger;
  /** Called for each decision made without Redis, with whether the request was allowed. */
  onStoreUnavailable?: (allowed: boolean) => void;
  /** Default `mtls:rate:`; the source address follows it. */
  keyPrefix?: string;
  /** Most sources the fail-open fallback tracks at once. */
  maxFallbackEntries?: number;
};

/**
 * The per-source rate limit shared by every gateway replica: one atomic GCRA script in Redis
 * per request (see rate-limit-script.ts). When Redis fails (down, unreachable, too slow), the
 * fail mode decides, a counter goes up for each such decision, and the outage is logged once
 * when it starts and once when it ends.
 */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly intervalMicros: number;
  private readonly keyPrefix: string;
  private readonly fallback: RateLimiter | undefined;
  private outageSince: number | undefined;

  constructor(private readonly options: RedisRateLimitStoreOptions) {
    this.intervalMicros = 1_000_000 / options.rate;
    this.keyPrefix = options.keyPrefix ?? 'mtls:rate:';
    this.fallback =
      options.failMode === 'open'
        ? new RateLimiter({
            rate: options.rate,
            burst: options.burst,
            maxEntries: options.maxFallbackEntries,
          })
        : undefined;
  }

  /** Takes one request's worth of the source's shared allowance, or says how long to wait. */
  async take(sourceIp: string): Promise<RateDecision> {
    const key = this.keyPrefix + canonicalAddress(sourceIp);
    let verdict;
    try {
      verdict = await runGcra(this.options.redis, key, this.intervalMicros, this.options.burst);
    } catch (err) {
      return this.decideWithout(sourceIp, err);
    }

    if (this.outageSince !== undefined) {
      const outageSeconds = Math.round((Date.now() - this.outageSince) / 1000);
      this.outageSince = undefined;
      this.options.log.info('rate limit store available again', { outageSeconds });
    }
    if (verdict.allowed) return { allowed: true };
    const retryAfterSeconds = Math.max(1, Math.ceil(verdict.waitMicros / 1_000_000));
    return { allowed: false, retryAfterSeconds };
  }

  private decideWithout(sourceIp: string, err: unknown): RateDecision {
    if (this.outageSince === undefined) {
      this.outageSince = Date.now();
      this.options.log.warn('rate limit store unavailable', {
        failMode: this.options.failMode,
        err,
      });
    }

    const decision: RateDecision = this.fallback
      ? this.fallback.take(canonicalAddress(sourceIp))
      : { allowed: false, retryAfterSeconds: 1, storeUnavailable: true };
    this.options.onStoreUnavailable?.(decision.allowed);
    return decision;
  }
}
