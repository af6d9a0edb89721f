import { createHmac } from 'node:crypto';

import OAuth from 'oauth-1.0a';

import { collectionPath } from '../../core/kube/api-paths';
import type { KubeClient } from '../../core/kube/kube-client';
import { RESOURCES } from '../../core/resources/api-resources';
import type { Gateway } from '../../sidecar/gateway/gateway';
import { callProxy } from '../fixtures/http-call';
import { RedisServer } from '../fixtures/redis-server';
import { eventually } from './eventually';
import { adminKube, createNamespace, startGateway } from './gateway-harness';
import { applyCrds } from './operator-harness';

// Two gateway replicas sharing one real Redis: a burst or a signed request sent to one counts
// at the other too.

let redis: RedisServer;
let kube: KubeClient;
let home = '';
let first: Gateway;
let second: Gateway;

beforeAll(async () => {
  applyCrds();
  redis = await RedisServer.start();
  kube = adminKube();
  home = await createNamespace(kube, 'gw-replicas');
  // Known before the gateways start: their first list of consumers has it.
  await kube.create(collectionPath(RESOURCES.secrets, home), {
    metadata: { name: 'portal', labels: { 'mtls.io/oauth1-consumer': 'true' } },
    stringData: { consumerKey: 'portal', consumerSecret: 'portal-secret', namespaces: home },
  });
  const flags = ['--namespace', home, '--rate-limit-store', 'redis', '--redis-url', redis.url];
  // One request per 100 s after a burst of 3: nothing refills while the test runs.
  first = await startGateway([...flags, '--rate', '0.01', '--burst', '3']);
  second = await startGateway([...flags, '--rate', '0.01', '--burst', '3']);
}, 60_000);

afterAll(async () => {
  await first?.close();
  await second?.close();
  kube?.close();
  await redis?.dispose();
});

describe('gateway replicas sharing Redis', () => {
  it('refuse a nonce already accepted by the other replica', async () => {
    const oauth = new OAuth({
      consumer: { key: 'portal', secret: 'portal-secret' },
      signature_method: 'HMAC-SHA1',
      hash_function: (base, key) => createHmac('sha1', key).update(base).digest('base64'),
    });
    const path = `/api/v1/accounts/${home}/configuration/check`;
    // Both replicas are reached as the same host name, as behind a Service, so one signature
    // fits either.
    const url = `http://gateway.test${path}`;
    const headers = {
      host: 'gateway.test',
      authorization: oauth.toHeader(oauth.authorize({ url, method: 'POST' })).Authorization,
      'content-type': 'application/json',
    };
    const body = JSON.stringify({ checks: [{ url: 'https://partner.example/' }] });
    const send = (replica: Gateway) =>
      callProxy(replica.port, { method: 'POST', path, headers, body, localAddress: '127.0.0.3' });

    const accepted = await send(first);
    expect(accepted.status).toBe(200);
    expect(JSON.parse(accepted.body).results[0]).toMatchObject({ mapped: false, state: 'Missing' });
    const replayed = await send(second);
    expect(replayed.status).toBe(401);
    expect(JSON.parse(replayed.body).code).toBe('OAUTH_REPLAYED_NONCE');
  });

  it('count one rate per source address across both', async () => {
    // A source address of its own, apart from the other test's calls.
    const call = (replica: Gateway) =>
      callProxy(replica.port, { path: '/api/openapi.json', localAddress: '127.0.0.2' });
    const statuses: number[] = [];
    for (const replica of [first, second, first]) statuses.push((await call(replica)).status);
    expect(statuses).toEqual([200, 200, 200]);

    const refused = await call(second);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body).code).toBe('PROXY_RATE_LIMITED');
  });
});

describe('readiness of a gateway sharing its rate limit through Redis', () => {
  it('is lost while Redis is down in closed mode only, and comes back with Redis', async () => {
    const flags = ['--namespace', home, '--rate-limit-store', 'redis', '--redis-url', redis.url];
    const closed = await startGateway([...flags, '--rate-limit-fail-mode', 'closed']);
    const open = await startGateway([...flags, '--rate-limit-fail-mode', 'open']);
    const readyz = async (gateway: Gateway) => {
      const response = await fetch(`http://127.0.0.1:${gateway.adminPort}/readyz`);
      return { status: response.status, text: await response.text() };
    };
    let redisDown = false;
    try {
      expect(await readyz(closed)).toEqual({ status: 200, text: 'ready\n' });

      await redis.stop();
      redisDown = true;
      await eventually('the closed-mode gateway to be unready', async () => {
        return (await readyz(closed)).status === 503;
      });
      expect((await readyz(closed)).text).toContain('--rate-limit-fail-mode is closed');
      expect(await readyz(open)).toEqual({ status: 200, text: 'ready\n' });

      await redis.resume();
      redisDown = false;
      await eventually('the closed-mode gateway to be ready again', async () => {
        return (await readyz(closed)).status === 200;
      });
    } finally {
      if (redisDown) await redis.resume();
      await closed.close();
      await open.close();
    }
  });
});
