import { isIP } from 'node:net';

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

const IPV4_MAPPED_PREFIX = '::ffff:';

/**
 * One key per client whatever socket family saw it: an IPv4 client reaching a dual-stack
 * listener appears as `::ffff:a.b.c.d`, and replicas listening differently must agree. Only a
 * whole IPv4 address after the prefix is unwrapped: other IPv6 addresses that start the same
 * way (`::ffff:0:1.2.3.4`) stay as they are.
 */
export function canonicalAddress(address: string): string {
  if (!address.toLowerCase().startsWith(IPV4_MAPPED_PREFIX)) return address;

  const rest = address.slice(IPV4_MAPPED_PREFIX.length);
  return isIP(rest) === 4 ? rest : address;
}

/** Waits for a decision only when the store had to go somewhere to make it. */
export function isPendingDecision(
  taken: RateDecision | Promise<RateDecision>,
): taken is Promise<RateDecision> {
  return taken instanceof Promise;
}
