import { callProxy } from '../../test/fixtures/http-call';
import { MtlsUpstream } from '../../test/fixtures/mtls-upstream';
import { LoopbackPki } from '../../test/fixtures/loopback-pki';
import { startFileSidecar, writeSidecarFile } from '../../test/fixtures/sidecar-harness';
import { RateLimiter } from './rate-limiter';

describe('RateLimiter', () => {
  let clock = 0;
  const now = (): number => clock;

  beforeEach(() => {
    clock = 1_000;
  });

  it('allows a burst, then one request per refill, and says how long to wait', () => {
    const limiter = new RateLimiter({ rate: 2, burst: 3, now });

    const burst = [1, 2, 3, 4].map(() => limiter.take('10.0.0.1').allowed);
    expect(burst).toEqual([true, true, true, false]);
    expect(limiter.take('10.0.0.1')).toEqual({ allowed: false, retryAfterSeconds: 1 });

    clock += 500;
    expect(limiter.take('10.0.0.1').allowed).toBe(true);
    expect(limiter.take('10.0.0.1').allowed).toBe(false);
  });

  it('rounds Retry-After up to whole seconds for slow rates', () => {
    const limiter = new RateLimiter({ rate: 0.25, burst: 1, now });
    limiter.take('10.0.0.1');
    expect(limiter.take('10.0.0.1')).toEqual({ allowed: false, retryAfterSeconds: 4 });
  });

  it('keeps at most maxEntries sources', () => {
    const limiter = new RateLimiter({ rate: 10, burst: 10, maxEntries: 100, now });
    for (let i = 0; i < 5_000; i++) limiter.take(`10.0.${i >> 8}.${i & 255}`);
    expect(limiter.size).toBe(100);
  });

  it('does not give an evicted source a full bucket when it comes back', () => {
    const limiter = new RateLimiter({ rate: 1, burst: 5, maxEntries: 10, now });
    for (let i = 0; i < 5; i++) limiter.take('attacker');

    // Ten other sources push the drained bucket out of the table.
    for (let i = 0; i < 10; i++) limiter.take(`10.0.0.${i}`);
    expect(limiter.take('attacker')).toEqual({ allowed: false, retryAfterSeconds: 1 });

    // It refills at the normal rate from where it was.
    clock += 2_000;
    expect([1, 2, 3].map(() => limiter.take('attacker').allowed)).toEqual([true, true, false]);
  });

  it('forgets idle sources whose bucket had refilled anyway', () => {
    const limiter = new RateLimiter({ rate: 10, burst: 2, maxEntries: 1, evictedSlots: 1, now });
    limiter.take('a');
    clock += 1_000;
    limiter.take('b');
    // 'a' was full when evicted, so nothing was remembered and the single slot stays free.
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(true);
  });
});

describe('the proxy rate limit', () => {
  const pki = new LoopbackPki();
  const cert = pki.client('shop', 'shop-client');
  const upstream = new MtlsUpstream(pki);

  afterAll(async () => {
    await upstream.stop();
    pki.dispose();
  });

  it('holds each source address to its own rate, with 429 and Retry-After', async () => {
    await upstream.start();
    const file = writeSidecarFile(
      pki,
      [{ name: 'shop-cert', certFile: cert.certFile, keyFile: cert.keyFile }],
      [{ name: 'partner', host: 'localhost', port: upstream.port, certificate: 'shop-cert' }],
    );
    // A rate so slow that no token comes back during the test: only the burst gets through.
    const sidecar = await startFileSidecar(file, '--rate', '0.01', '--burst', '3');

    try {
      const statuses: Record<string, number[]> = {};
      for (const source of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) {
        statuses[source] = [];
        for (let i = 0; i < 5; i++) {
          const result = await callProxy(sidecar.proxyPort, {
            path: `http://localhost:${upstream.port}/x`,
            localAddress: source,
          });
          statuses[source].push(result.status);
          // A token takes 100 s at this rate; the time the test itself takes comes off that.
          if (result.status === 429) {
            expect(Number(result.headers['retry-after'])).toBeGreaterThan(90);
            expect(Number(result.headers['retry-after'])).toBeLessThanOrEqual(100);
          }
        }
      }

      const expected = [200, 200, 200, 429, 429];
      expect(statuses).toEqual({
        '127.0.0.2': expected,
        '127.0.0.3': expected,
        '127.0.0.4': expected,
      });
      const metrics = await (await fetch(`http://127.0.0.1:${sidecar.adminPort}/metrics`)).text();
      expect(metrics).toMatch(/mtls_proxy_throttled_total 6/);
    } finally {
      await sidecar.close();
    }
  });
});
