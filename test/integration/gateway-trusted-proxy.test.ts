import type { Gateway } from '../../sidecar/gateway/gateway';
import { callProxy } from '../fixtures/http-call';
import { startGateway } from './gateway-harness';

// A gateway behind an ingress at 127.0.0.4: requests from the ingress count against the client
// its X-Forwarded-For names; anyone else's X-Forwarded-For is ignored.

let gateway: Gateway;

beforeAll(async () => {
  // A burst of 2 and one token per 100 s: nothing refills while the test runs.
  gateway = await startGateway([
    '--trusted-proxies',
    '127.0.0.4',
    '--rate',
    '0.01',
    '--burst',
    '2',
  ]);
}, 60_000);

afterAll(async () => {
  await gateway?.close();
});

async function statuses(localAddress: string, forwardedFor: string[]): Promise<number[]> {
  const seen: number[] = [];
  for (const client of forwardedFor) {
    const headers = { host: 'gateway.test', 'x-forwarded-for': client };
    const answer = await callProxy(gateway.port, {
      path: '/api/openapi.json',
      headers,
      localAddress,
    });
    seen.push(answer.status);
  }
  return seen;
}

describe('a gateway behind a trusted proxy', () => {
  it("holds each client behind the proxy to its own rate, not the proxy's", async () => {
    const first = await statuses('127.0.0.4', ['198.51.100.1', '198.51.100.1', '198.51.100.1']);
    expect(first).toEqual([200, 200, 429]);

    // Another client through the same proxy connection address has a full burst of its own,
    // and the proxy's own hop added after a client's claim does not change who is counted.
    const second = await statuses('127.0.0.4', ['198.51.100.2', '198.51.100.2, 127.0.0.4']);
    expect(second).toEqual([200, 200]);
  });

  it('ignores X-Forwarded-For from a caller that is not a trusted proxy', async () => {
    const claims = ['198.51.100.3', '198.51.100.4', '198.51.100.5'];
    expect(await statuses('127.0.0.5', claims)).toEqual([200, 200, 429]);
  });
});
