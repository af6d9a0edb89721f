import type { Redis } from 'ioredis';

import { createLogger } from '../../core/log/logger';
import {
  RedisRateLimitStore,
  type RateLimitFailMode,
} from '../../sidecar/proxy/redis-rate-limit-store';
import type { RateDecision } from '../../sidecar/proxy/rate-limiter';
import { closeRedis, openRedis } from '../../sidecar/redis/redis-connection';
import { recordingLogger, type LogLine } from '../fixtures/recording-logger';
import { RedisServer } from '../fixtures/redis-server';
import { eventually } from './eventually';

// Two stores on two connections stand for two gateway replicas sharing one Redis.
describe('the rate limit shared through a real Redis', () => {
  let redis: RedisServer;
  const connections: Redis[] = [];
  const quiet = createLogger('rate-test', 'error');

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    await Promise.all(connections.map((connection) => closeRedis(connection)));
    await redis.dispose();
  });

  async function replica(
    rate: number,
    burst: number,
    failMode: RateLimitFailMode = 'open',
    log = quiet,
    onStoreUnavailable?: (allowed: boolean) => void,
  ): Promise<RedisRateLimitStore> {
    const connection = await openRedis({ url: redis.url, log: quiet });
    connections.push(connection);
    return new RedisRateLimitStore({
      redis: connection,
      rate,
      burst,
      failMode,
      log,
      onStoreUnavailable,
    });
  }

  type Sample = { sentAt: number; answeredAt: number; allowed: boolean };

  /**
   * Sends from one source through a replica, one request after the other, until the first
   * refusal after `until`: at that moment every token made so far has been taken.
   */
  async function hammer(store: RedisRateLimitStore, source: string, until: number) {
    const samples: Sample[] = [];
    for (;;) {
      const sentAt = performance.now();
      const { allowed } = await store.take(source);
      samples.push({ sentAt, answeredAt: performance.now(), allowed });
      if (!allowed && sentAt >= until) return samples;
    }
  }

  it('holds one source to 10 requests/s in total across two replicas', async () => {
    const [first, second] = [await replica(10, 10), await replica(10, 10)];

    const until = performance.now() + 2_000;
    const [a, b] = await Promise.all([
      hammer(first, '10.1.0.1', until),
      hammer(second, '10.1.0.1', until),
    ]);

    // Tokens (10 a second after a burst of 10) are made from the first request Redis runs to
    // the last; the bounds come from the times around them, whatever the machine's speed.
    const allowed = [...a, ...b].filter((sample) => sample.allowed).length;
    const earliest = (samples: Sample[], at: keyof Sample) =>
      Math.min(...samples.map((sample) => Number(sample[at])));
    const lastAnswered = Math.max(...[...a, ...b].map((sample) => sample.answeredAt));
    const most = 10 + (10 * (lastAnswered - earliest([...a, ...b], 'sentAt'))) / 1000;
    const leastFrom = (samples: Sample[]) =>
      10 + (10 * (until - earliest(samples, 'answeredAt'))) / 1000;
    expect(allowed).toBeLessThanOrEqual(most + 1);
    expect(allowed).toBeGreaterThan(leastFrom([...a, ...b]) - 2);

    // Limits of each replica's own would have let at least this many through each: together
    // far more than the shared bound, so this test cannot pass with them.
    expect(most + 1).toBeLessThan(leastFrom(a) - 2 + leastFrom(b) - 2);
  });

  it('counts each source address on its own', async () => {
    // So slow a rate that nothing refills during the test: only the burst of 3 goes through.
    const replicas = [await replica(0.01, 3), await replica(0.01, 3)];

    const allowed: Record<string, boolean[]> = {};
    for (const source of ['10.2.0.1', '10.2.0.2', '2001:db8::1']) {
      allowed[source] = [];
      for (let i = 0; i < 6; i++) {
        allowed[source].push((await replicas[i % 2].take(source)).allowed);
      }
    }

    const burstOnly = [true, true, true, false, false, false];
    expect(allowed).toEqual({
      '10.2.0.1': burstOnly,
      '10.2.0.2': burstOnly,
      '2001:db8::1': burstOnly,
    });
    // A token takes 100 s at this rate; the time the test itself takes comes off that.
    const refused = await replicas[0].take('10.2.0.1');
    expect(refused.allowed === false && refused.retryAfterSeconds).toBeGreaterThan(90);
    expect(refused.allowed === false && refused.retryAfterSeconds).toBeLessThanOrEqual(100);
    // An IPv4 client seen through a dual-stack socket is the same client.
    expect((await replicas[1].take('::ffff:10.2.0.1')).allowed).toBe(false);
  });

  it('while Redis is down, fails open to local limits or closed, as configured', async () => {
    const lines: LogLine[] = [];
    const unavailable = { allowed: 0, refused: 0 };
    const count = (allowed: boolean): void => {
      unavailable[allowed ? 'allowed' : 'refused']++;
    };
    const open = await replica(0.01, 3, 'open', recordingLogger(lines), count);
    const closed = await replica(0.01, 3, 'closed');

    await redis.stop();
    const openDecisions: RateDecision[] = [];
    for (let i = 0; i < 5; i++) openDecisions.push(await open.take('10.3.0.1'));
    const closedDecisions = [await closed.take('10.3.0.1'), await closed.take('10.3.0.2')];

    // Open: this replica's own limit of the same rate and burst still applies.
    expect(openDecisions.map((decision) => decision.allowed)).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(openDecisions.some((decision) => 'storeUnavailable' in decision)).toBe(false);
    expect(unavailable).toEqual({ allowed: 3, refused: 2 });
    const warnings = lines.filter((line) => line.message === 'rate limit store unavailable');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', fields: { failMode: 'open' } });

    // Closed: everything is refused, and says why.
    const refusal = { allowed: false, retryAfterSeconds: 1, storeUnavailable: true };
    expect(closedDecisions).toEqual([refusal, refusal]);

    // Back: the replicas use Redis again, and the end of the outage is logged once.
    await redis.resume();
    await eventually('the closed replica allows again', async () => {
      return (await closed.take('10.3.0.3')).allowed;
    });
    await eventually('the open replica uses Redis again', async () => {
      await open.take('10.3.0.4');
      return lines.some((line) => line.message === 'rate limit store available again');
    });
    expect(lines.filter((line) => line.level === 'warn')).toHaveLength(1);
  });
});
