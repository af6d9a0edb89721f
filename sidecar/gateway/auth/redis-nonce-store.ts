import type { Redis } from 'ioredis';

import { percentEncode } from './oauth1-signature';
import type { NonceStore } from './oauth1-verifier';

/**
 * The nonces of every gateway replica, in one Redis: `SET key 1 NX EX ttl` stores a nonce only
 * when it is new, atomically, and Redis forgets it when its time to live ends. A Redis error is
 * thrown to the caller: without the store a replay cannot be told apart, so the request fails.
 */
export class RedisNonceStore implements NonceStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix = 'mtls:nonce',
  ) {}

  /** True when the nonce was new and is now remembered for ttlSeconds; false = replay. */
  async remember(
    consumerKey: string,
    timestamp: number,
    nonce: string,
    ttlSeconds: number,
  ): Promise<boolean> {
    // Encoding leaves no `:` inside a part, so two different triples never share a key.
    const key = [this.keyPrefix, percentEncode(consumerKey), timestamp, percentEncode(nonce)];
    const stored = await this.redis.set(
      key.join(':'),
      '1',
      'EX',
      Math.max(1, Math.ceil(ttlSeconds)),
      'NX',
    );
    return stored === 'OK';
  }
}
