import { callProxy } from '../fixtures/http-call';
import { LoopbackPki } from '../fixtures/loopback-pki';
import { MtlsUpstream } from '../fixtures/mtls-upstream';
import { RedisServer } from '../fixtures/redis-server';
import { startFileSidecar, writeSidecarFile } from '../fixtures/sidecar-harness';
import type { Sidecar } from '../../sidecar/sidecar';

// Real proxies, a real upstream over mutual TLS and a real Redis: the gateway's replicas.
describe('proxies sharing their rate limit through Redis', () => {
  const pki = new LoopbackPki();
  const cert = pki.client('shop', 'shop-client');
  const upstream = new MtlsUpstream(pki);
  let redis: RedisServer;
  const sidecars: Sidecar[] = [];

  beforeAll(async () => {
    await upstream.start();
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    await Promise.all(sidecars.map((sidecar) => sidecar.close()));
    await redis.dispose();
    await upstream.stop();
    pki.dispose();
  });

  async function replica(...flags: string[]): Promise<Sidecar> {
    const file = writeSidecarFile(
      pki,
      [{ name: 'shop-cert', certFile: cert.certFile, keyFile: cert.keyFile }],
      [{ name: 'partner', host: 'localhost', port: upstream.port, certificate: 'shop-cert' }],
    );
    // A rate so slow that nothing refills during the test: only the burst of 3 goes through.
    const sidecar = await startFileSidecar(
      file,
      ...['--rate', '0.01', '--burst', '3', '--rate-limit-store', 'redis'],
      ...['--redis-url', redis.url, ...flags],
    );
    sidecars.push(sidecar);
    return sidecar;
  }

  function throttled(text: string): number {
    return Number(/^mtls_proxy_throttled_total (\d+)$/m.exec(text)?.[1]);
  }

  async function metrics(sidecar: Sidecar): Promise<string> {
    return (await fetch(`http://127.0.0.1:${sidecar.adminPort}/metrics`)).text();
  }

  it('hold each source to one burst across replicas, then follow the fail mode', async () => {
    const [a, b] = [await replica(), await replica()];
    const closed = await replica('--rate-limit-fail-mode', 'closed');

    const statuses: Record<string, number[]> = {};
    for (const source of ['127.0.0.2', '127.0.0.3']) {
      statuses[source] = [];
      for (let i = 0; i < 6; i++) {
        const through = i % 2 === 0 ? a : b;
        const result = await callProxy(through.proxyPort, {
          path: `http://localhost:${upstream.port}/x`,
          localAddress: source,
        });
        statuses[source].push(result.status);
      }
    }
    const burstOnly = [200, 200, 200, 429, 429, 429];
    expect(statuses).toEqual({ '127.0.0.2': burstOnly, '127.0.0.3': burstOnly });
    // Six refusals in all, whichever replica made them.
    expect(throttled(await metrics(a)) + throttled(await metrics(b))).toBe(6);

    await redis.stop();
    const call = (sidecar: Sidecar) =>
      callProxy(sidecar.proxyPort, {
        path: `http://localhost:${upstream.port}/x`,
        localAddress: '127.0.0.4',
      });

    // Fail-open: the replica applies the burst on its own.
    const open = [await call(a), await call(a), await call(a), await call(a)];
    expect(open.map((result) => result.status)).toEqual([200, 200, 200, 429]);
    const openMetrics = await metrics(a);
    expect(openMetrics).toMatch(
      /mtls_proxy_rate_limit_store_unavailable_total\{decision="allowed"\} 3/,
    );
    expect(openMetrics).toMatch(
      /mtls_proxy_rate_limit_store_unavailable_total\{decision="refused"\} 1/,
    );

    // Fail-closed: refused, and the answer says why.
    const refused = await call(closed);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'PROXY_RATE_LIMIT_UNAVAILABLE' });
  });
});
