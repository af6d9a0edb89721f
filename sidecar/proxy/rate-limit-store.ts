import type { RateDecision } from './rate-limiter';

/**
 * Where the per-source rate limit is counted: in this process (RateLimiter) or in a store that
 * every gateway replica shares (RedisRateLimitStore). `take` answers synchronously when it can,
 * so that the in-memory limiter adds no await to each request; a shared store answers with a
 * promise.
 */
export interface RateLimitStore {
  /** Takes one request's worth of the source address's allowance, or says how long to wait. */
  take(sourceIp: string): RateDecision | Promise<RateDecision>;
}

/**
 * One key per client whatever socket family saw it: an IPv4 client reaching a dual-stack
 * listener appears as `::ffff:a.b.c.d`, and replicas listening differently must agree.
 */
export function canonicalAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** Waits for a decision only when the store had to go somewhere to make it. */
export function isPendingDecision(
  taken: RateDecision | Promise<RateDecision>,
): taken is Promise<RateDecision> {
  return taken instanceof Promise;
}
