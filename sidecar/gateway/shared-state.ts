import type { SidecarConfig } from '../../core/config/sidecar-config';
import type { Logger } from '../../core/log/logger';
import type { SidecarMetrics } from '../admin/sidecar-metrics';
import type { RateLimitStore } from '../proxy/rate-limit-store';
import { RateLimiter } from '../proxy/rate-limiter';
import { RedisRateLimitStore } from '../proxy/redis-rate-limit-store';
import { closeRedis, openRedis } from '../redis/redis-connection';
import { MemoryNonceStore } from './auth/memory-nonce-store';
import type { NonceStore } from './auth/oauth1-verifier';
import { RedisNonceStore } from './auth/redis-nonce-store';

/** What gateway replicas may share: the per-source rate limit and the OAuth nonces seen. */
export type SharedState = {
  rateLimit: RateLimitStore;
  nonces: NonceStore;
  /**
   * False while requests would be refused for want of the shared store (Redis down in closed
   * mode), so that /readyz takes the replica out of its Service until Redis is back.
   */
  ready(): boolean;
  close(): Promise<void>;
};

/**
 * In this process, or, with `--rate-limit-store redis`, in one Redis connection for both: a
 * replay or a burst sent to another replica is then seen too.
 */
export async function openSharedState(
  config: SidecarConfig,
  log: Logger,
  metrics: SidecarMetrics,
): Promise<SharedState> {
  if (config.rateLimitStore === 'memory') {
    return {
      rateLimit: new RateLimiter({ rate: config.rate, burst: config.burst }),
      nonces: new MemoryNonceStore(),
      ready: () => true,
      close: () => Promise.resolve(),
    };
  }

  const redis = await openRedis({ url: config.redisUrl, log });
  return {
    rateLimit: new RedisRateLimitStore({
      redis,
      rate: config.rate,
      burst: config.burst,
      failMode: config.rateLimitFailMode,
      log,
      onStoreUnavailable: (allowed) =>
        metrics.rateLimitStoreUnavailable.inc({ decision: allowed ? 'allowed' : 'refused' }),
    }),
    nonces: new RedisNonceStore(redis),
    ready: () => config.rateLimitFailMode === 'open' || redis.status === 'ready',
    close: () => closeRedis(redis),
  };
}
