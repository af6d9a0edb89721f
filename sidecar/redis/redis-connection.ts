import type { Redis } from 'ioredis';

import type { Logger } from '../../core/log/logger';

/** Options of the gateway's Redis connection. */
export type RedisConnectionOptions = {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS. */
  url: string;
  log: Logger;
  /** How long one command may take before it counts as failed; default 250 ms. */
  commandTimeoutMs?: number;
  /** How long opening waits for the first connection before going on without it; default 2 s. */
  readyTimeoutMs?: number;
};

/**
 * Opens the connection the gateway shares its rate limits and nonces through. Commands fail at
 * once while it is down (no offline queue) and after a short timeout when Redis hangs, because a
 * caller waiting on them is holding a request; the client reconnects in the background, backing
 * off up to a second. Opening waits briefly for the first connection and otherwise goes on: the
 * stores decide what a request gets while Redis cannot be reached.
 */
export async function openRedis(options: RedisConnectionOptions): Promise<Redis> {
  // Loaded here, not at start-up: ioredis adds about 18 MB to every process that loads it, and
  // most sidecars never use Redis.
  const { Redis } = await import('ioredis');
  const redis = new Redis(options.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 250,
    connectTimeout: 1_000,
    retryStrategy: (attempt) => Math.min(attempt * 50, 1_000),
    connectionName: 'mtls-gateway',
  });
  // Without a listener ioredis prints every connection error; the stores report outages once.
  redis.on('error', (err: Error) => options.log.debug('redis connection error', { err }));

  const timeoutMs = options.readyTimeoutMs ?? 2_000;
  let timer: NodeJS.Timeout | undefined;
  const failure = await Promise.race([
    redis.connect().then(
      () => undefined,
      (err: unknown) => err,
    ),
    new Promise<Error>((resolve) => {
      timer = setTimeout(
        () => resolve(new Error(`no connection within ${timeoutMs} ms`)),
        timeoutMs,
      );
    }),
  ]);
  clearTimeout(timer);
  if (failure !== undefined) {
    const host = redisHost(options.url);
    options.log.warn('redis not reachable at start; going on and retrying', { host, err: failure });
  }
  return redis;
}

/** Closes the connection, dropping it when Redis does not answer the goodbye. */
export async function closeRedis(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

/** The host and port of a Redis URL, without the credentials it may hold, for logs. */
export function redisHost(url: string): string {
  return new URL(url).host;
}
