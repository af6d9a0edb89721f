import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { KubeClient, watchSilenceLimitMs } from './kube-client';

// A plain-HTTP stand-in for the apiserver's watch stream: only the client's own framing and
// timers are under test here; the real apiserver's watches are in test/integration.

/** Serves one watch that sends an event and then either stays silent or ends. */
async function watchServer(after: 'silent' | 'end'): Promise<http.Server> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n`);
    if (after === 'end') setTimeout(() => res.end(), 200);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

function clientOf(server: http.Server): KubeClient {
  const { port } = server.address() as AddressInfo;
  return new KubeClient({
    server: `http://127.0.0.1:${port}`,
    tls: { rejectUnauthorized: true },
    authorization: () => undefined,
    namespace: 'default',
  });
}

/** Runs a watch to its end: the events it saw, its error, and how long it lasted. */
async function watchToEnd(client: KubeClient, timeoutSeconds: number) {
  const events: string[] = [];
  const started = Date.now();
  const err = await new Promise<unknown>((resolve) => {
    void client.watch(
      '/api/v1/configmaps',
      { timeoutSeconds },
      {
        onEvent: (type) => events.push(type),
        onDone: resolve,
      },
    );
  });
  return { events, err, ms: Date.now() - started };
}

describe('KubeClient watch', () => {
  const servers: http.Server[] = [];
  const clients: KubeClient[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('gives up on a stream that stays silent well past its timeoutSeconds', async () => {
    const server = await watchServer('silent');
    servers.push(server);
    const client = clientOf(server);
    clients.push(client);

    const { events, err, ms } = await watchToEnd(client, 1);

    expect(events).toEqual(['ADDED']);
    expect(String(err)).toMatch(/aborted|timed out/);
    expect(ms).toBeGreaterThanOrEqual(1900);
    expect(ms).toBeLessThan(10_000);
  });

  it('ends without an error when the apiserver closes the stream in time', async () => {
    const server = await watchServer('end');
    servers.push(server);
    const client = clientOf(server);
    clients.push(client);

    const { events, err } = await watchToEnd(client, 1);

    expect(events).toEqual(['ADDED']);
    expect(err).toBeUndefined();
  });
});

describe('watchSilenceLimitMs', () => {
  it('allows the server its timeout and then up to 30 s more', () => {
    expect(watchSilenceLimitMs(1)).toBe(2_000);
    expect(watchSilenceLimitMs(300)).toBe(330_000);
  });

  it('sets no limit on a watch without a timeout', () => {
    expect(watchSilenceLimitMs(0)).toBe(0);
    expect(watchSilenceLimitMs(Number(undefined))).toBe(0);
  });
});
