import { Counter, Registry } from 'prom-client';

import { createLogger } from '../../core/log/logger';
import { ProbeServer } from './probe-server';

// The probe endpoints over real HTTP on loopback.

describe('ProbeServer', () => {
  const logger = createLogger('probe-test', 'error');
  let server: ProbeServer;
  let vaultReachable: boolean;
  let base: string;

  beforeEach(async () => {
    const registry = new Registry();
    new Counter({ name: 'mtls_test_events_total', help: 'Events.', registers: [registry] }).inc(3);
    vaultReachable = true;
    server = new ProbeServer({
      port: 0,
      host: '127.0.0.1',
      registry,
      readiness: { informers: () => true, vault: async () => vaultReachable },
      logger,
    });
    base = `http://127.0.0.1:${await server.start()}`;
  });

  afterEach(() => server.close());

  it('answers /healthz while the process runs', async () => {
    const response = await fetch(`${base}/healthz`);

    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok\n');
  });

  it('serves the metrics of the registry it was given', async () => {
    const response = await fetch(`${base}/metrics`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(await response.text()).toContain('mtls_test_events_total 3');
  });

  it('is ready when every check passes, and names the check that fails', async () => {
    const ready = await fetch(`${base}/readyz`);
    const readyText = await ready.text();
    vaultReachable = false;
    const notReady = await fetch(`${base}/readyz`);

    expect(ready.status).toBe(200);
    expect(readyText).toBe('[+]informers ok\n[+]vault ok\nreadyz check passed\n');
    expect(notReady.status).toBe(503);
    expect(await notReady.text()).toBe('[+]informers ok\n[-]vault failed\nreadyz check failed\n');
  });

  it('counts a check that throws or never answers as failed', async () => {
    const registry = new Registry();
    const strict = new ProbeServer({
      port: 0,
      host: '127.0.0.1',
      registry,
      readiness: {
        broken: () => {
          throw new Error('vault client not configured');
        },
        hanging: () => new Promise<boolean>(() => undefined),
      },
      checkTimeoutMs: 50,
      logger,
    });
    const port = await strict.start();

    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    await strict.close();

    expect(response.status).toBe(503);
    expect(await response.text()).toBe(
      '[-]broken failed\n[-]hanging failed\nreadyz check failed\n',
    );
  });

  it('refuses other paths and methods', async () => {
    const missing = await fetch(`${base}/debug`);
    const posted = await fetch(`${base}/healthz`, { method: 'POST' });

    expect(missing.status).toBe(404);
    expect(posted.status).toBe(405);
  });

  it('closes gracefully even with a kept-alive connection open', async () => {
    await fetch(`${base}/healthz`, { headers: { connection: 'keep-alive' } }).then((r) => r.text());

    await server.close();

    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
