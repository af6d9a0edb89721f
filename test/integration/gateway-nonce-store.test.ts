import { createHmac } from 'node:crypto';

import type { Redis } from 'ioredis';
import OAuth from 'oauth-1.0a';

import { ErrorCode, MtlsError } from '../../core/errors/codes';
import { createLogger } from '../../core/log/logger';
import { OAuth1Verifier } from '../../sidecar/gateway/auth/oauth1-verifier';
import { RedisNonceStore } from '../../sidecar/gateway/auth/redis-nonce-store';
import { StaticConsumerStore } from '../../sidecar/gateway/auth/static-consumer-store';
import { closeRedis, openRedis } from '../../sidecar/redis/redis-connection';
import { RedisServer } from '../fixtures/redis-server';
import { eventually } from './eventually';

// Two verifiers on two connections stand for two gateway replicas sharing one Redis.
describe('OAuth nonces shared through a real Redis', () => {
  const shop = { key: 'shop-key', secret: 'shop-secret', namespaces: ['shop'] };
  const consumers = new StaticConsumerStore([shop]);
  const log = createLogger('nonce-test', 'error');
  let redis: RedisServer;
  let connections: Redis[];

  beforeAll(async () => {
    redis = await RedisServer.start();
    connections = [
      await openRedis({ url: redis.url, log }),
      await openRedis({ url: redis.url, log }),
    ];
  });

  afterAll(async () => {
    await Promise.all(connections.map((connection) => closeRedis(connection)));
    await redis.dispose();
  });

  function signedRequest(url: string) {
    const oauth = new OAuth({
      consumer: { key: shop.key, secret: shop.secret },
      signature_method: 'HMAC-SHA1',
      hash_function: (base, key) => createHmac('sha1', key).update(base).digest('base64'),
    });
    const authorization = oauth.toHeader(oauth.authorize({ url, method: 'GET' })).Authorization;
    return { method: 'GET', url: new URL(url), authorization };
  }

  it('refuses a request replayed to another replica', async () => {
    const [a, b] = connections.map(
      (connection) => new OAuth1Verifier({ consumers, nonces: new RedisNonceStore(connection) }),
    );
    const request = signedRequest('https://gw.example/v1/x');

    await expect(a.verify(request)).resolves.toEqual(shop);
    await expect(b.verify(request)).rejects.toMatchObject({ code: ErrorCode.OAuthReplayedNonce });

    // The nonce is kept as long as its timestamp stays in the window, and no longer.
    const keys = await connections[0].keys('mtls:nonce:*');
    expect(keys).toHaveLength(1);
    const ttl = await connections[0].ttl(keys[0]);
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(302);
  });

  it('keeps consumer, timestamp and nonce apart, and forgets a nonce in time', async () => {
    const store = new RedisNonceStore(connections[0]);

    expect(await store.remember('a:1', 2, 'x', 60)).toBe(true);
    expect(await store.remember('a', 1, '2:x', 60)).toBe(true);
    expect(await store.remember('a', 1, '2:x', 60)).toBe(false);

    expect(await store.remember('short', 1, 'n', 1)).toBe(true);
    await eventually('Redis forgets the nonce', async () => store.remember('short', 1, 'n', 1));
  });

  it('fails the request, not as a replay, while Redis is down', async () => {
    const verifier = new OAuth1Verifier({
      consumers,
      nonces: new RedisNonceStore(connections[1]),
    });

    await redis.stop();
    const error = await verifier
      .verify(signedRequest('https://gw.example/v1/y'))
      .catch((err) => err);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(MtlsError);
  });
});
