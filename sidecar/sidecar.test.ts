import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';

import { loadSidecarConfig } from '../core/config/sidecar-config';
import { createLogger } from '../core/log/logger';
import { callProxy, type CallResult } from '../test/fixtures/http-call';
import { MtlsUpstream } from '../test/fixtures/mtls-upstream';
import { LoopbackPki } from '../test/fixtures/loopback-pki';
import {
  startFileSidecar,
  startSidecarWith,
  writeSidecarFile,
} from '../test/fixtures/sidecar-harness';
import { recordingLogger, type LogLine } from '../test/fixtures/recording-logger';
import { createSidecar } from './sidecar';

/** How a TCP connection to host:port ends: `connected`, or the error code. */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** An IPv4 address of this host that is not loopback, if it has one. */
function nonLoopbackAddress(): string | undefined {
  const all = Object.values(networkInterfaces()).flatMap((entries) => entries ?? []);
  return all.find((entry) => entry.family === 'IPv4' && !entry.internal)?.address;
}

// The whole sidecar in standalone file mode: rotation under load, graceful stop, logs, readiness.

describe('the sidecar', () => {
  const pki = new LoopbackPki();
  const first = pki.client('shop-v1', 'shop-v1');
  const second = pki.client('shop-v2', 'shop-v2');
  const upstream = new MtlsUpstream(pki);

  beforeAll(async () => {
    await upstream.start();
  });

  afterAll(async () => {
    await upstream.stop();
    pki.dispose();
  });

  const mappings = (): Parameters<typeof writeSidecarFile>[2] => [
    { name: 'partner', host: 'localhost', port: upstream.port, certificate: 'shop-cert' },
  ];

  it('rotates a certificate under steady load without a failed request', async () => {
    const v1 = { name: 'shop-cert', certFile: first.certFile, keyFile: first.keyFile };
    const v2 = { name: 'shop-cert', certFile: second.certFile, keyFile: second.keyFile };
    const file = writeSidecarFile(pki, [v1], mappings(), `${pki.dir}/rotation.yaml`);
    const sidecar = await startFileSidecar(file, '--rate', '100000', '--burst', '100000');

    const results: CallResult[] = [];
    let rotatedAt = -1;
    const loop = async (): Promise<void> => {
      // Runs until the new certificate was seen, then 20 more requests per loop.
      let after = 0;
      while (after < 20) {
        const result = await callProxy(sidecar.proxyPort, {
          path: `http://localhost:${upstream.port}/r`,
        });
        results.push(result);
        if (rotatedAt >= 0 && JSON.parse(result.body).clientCn === 'shop-v2') after++;
      }
    };

    try {
      const loops = Promise.all([loop(), loop(), loop(), loop()]);
      while (results.length < 40) await new Promise((resolve) => setTimeout(resolve, 10));
      writeSidecarFile(pki, [v2], mappings(), file);
      rotatedAt = results.length;
      await loops;

      expect(results.filter((result) => result.status !== 200)).toEqual([]);
      const cns = results.map((result) => JSON.parse(result.body).clientCn);
      expect(cns.slice(0, rotatedAt).every((cn) => cn === 'shop-v1')).toBe(true);
      expect(cns.slice(-10)).toEqual(Array(10).fill('shop-v2'));
    } finally {
      await sidecar.close();
    }
  });

  it('finishes in-flight requests on close and then stops accepting', async () => {
    const file = writeSidecarFile(
      pki,
      [{ name: 'shop-cert', certFile: first.certFile, keyFile: first.keyFile }],
      mappings(),
      `${pki.dir}/close.yaml`,
    );
    const sidecar = await startFileSidecar(file);
    upstream.behaviour = 'slow';

    try {
      const inFlight = callProxy(sidecar.proxyPort, {
        path: `http://localhost:${upstream.port}/slow`,
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const closed = sidecar.close();

      expect((await inFlight).status).toBe(200);
      await closed;
      await expect(callProxy(sidecar.proxyPort, { path: '/' })).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      upstream.behaviour = 'echo';
    }
  });

  it('ends a request still in flight at --shutdown-timeout instead of waiting for it', async () => {
    const file = writeSidecarFile(
      pki,
      [{ name: 'shop-cert', certFile: first.certFile, keyFile: first.keyFile }],
      mappings(),
      `${pki.dir}/deadline.yaml`,
    );
    const timeouts = ['--shutdown-timeout', '300ms', '--upstream-timeout', '1m'];
    const sidecar = await startFileSidecar(file, ...timeouts);
    upstream.behaviour = 'hang';

    try {
      const inFlight = callProxy(sidecar.proxyPort, {
        path: `http://localhost:${upstream.port}/hang`,
      }).catch((err: Error) => err);
      await new Promise((resolve) => setTimeout(resolve, 100));

      const started = performance.now();
      await sidecar.close();
      const took = performance.now() - started;

      expect(took).toBeGreaterThanOrEqual(250);
      expect(took).toBeLessThan(2000);
      expect(await inFlight).toMatchObject({ message: expect.stringMatching(/socket hang up/) });
      await expect(callProxy(sidecar.proxyPort, { path: '/' })).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      upstream.behaviour = 'echo';
    }
  });

  it('logs each request without secrets', async () => {
    const file = writeSidecarFile(
      pki,
      [{ name: 'shop-cert', certFile: first.certFile, keyFile: first.keyFile }],
      mappings(),
      `${pki.dir}/log.yaml`,
    );
    const lines: LogLine[] = [];
    const accessLog: string[] = [];
    const sidecar = await startSidecarWith(['--config-file', file], recordingLogger(lines), {
      write: (text: string) => accessLog.push(text),
    });

    try {
      await callProxy(sidecar.proxyPort, {
        path: '/mtls/account/shop',
        headers: {
          'lp-forward-url': `https://localhost:${upstream.port}/orders`,
          'lp-authorization-override': 'Bearer override-secret',
          authorization: 'Bearer app-secret',
          cookie: 'session=cookie-secret',
        },
      });
    } finally {
      await sidecar.close();
    }

    const access = accessLog
      .join('')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(access).toEqual([
      expect.objectContaining({
        level: 'info',
        message: 'request',
        method: 'GET',
        host: 'localhost',
        form: 'forwarding-method',
        status: 200,
        mapping: 'partner',
        certificate: 'shop-cert',
        durationMs: expect.any(Number),
        timestamp: expect.any(String),
      }),
    ]);
    expect(JSON.stringify(lines) + accessLog.join('')).not.toMatch(/secret|BEGIN/);
  });

  it('is not ready and answers 503 until a first snapshot loads', async () => {
    const sidecar = await startSidecarWith([
      '--vault-addr',
      'http://127.0.0.1:9',
      '--vault-token',
      'unused',
      '--check-interval',
      '1h',
    ]);

    try {
      const ready = await fetch(`http://127.0.0.1:${sidecar.adminPort}/readyz`);
      const health = await fetch(`http://127.0.0.1:${sidecar.adminPort}/healthz`);
      const call = await callProxy(sidecar.proxyPort, { path: 'http://partner.example/x' });

      expect([ready.status, health.status, call.status]).toEqual([503, 200, 503]);
      expect(JSON.parse(call.body).code).toBe('PROXY_NOT_READY');
      const metrics = await (await fetch(`http://127.0.0.1:${sidecar.adminPort}/metrics`)).text();
      expect(metrics).toMatch(/mtls_sidecar_vault_errors_total 1/);
    } finally {
      await sidecar.close();
    }
  });

  it('listens on loopback only as a sidecar: other pods cannot use its certificates', async () => {
    const file = writeSidecarFile(
      pki,
      [{ name: 'shop-cert', certFile: first.certFile, keyFile: first.keyFile }],
      mappings(),
      `${pki.dir}/loopback.yaml`,
    );
    const flags = ['--namespace', 'shop', '--config-file', file, '--listen-port', '0'];
    const invocation = loadSidecarConfig([...flags, '--admin-port', '0'], {});
    if (invocation.help) throw new Error('unexpected help');
    // No listenHost: the address comes from the configuration's default, as in a pod.
    const sidecar = await createSidecar(invocation.config, {
      log: createLogger('sidecar-test', 'error'),
      accessLogSink: { write: () => true },
    });

    try {
      expect(sidecar.proxy.address().address).toBe('127.0.0.1');
      const call = await callProxy(sidecar.proxyPort, {
        path: `http://localhost:${upstream.port}/x`,
      });
      expect(JSON.parse(call.body).clientCn).toBe('shop-v1');

      const outside = nonLoopbackAddress();
      if (outside !== undefined) {
        expect(await tryConnect(outside, sidecar.proxyPort)).toBe('ECONNREFUSED');
        expect(await tryConnect(outside, sidecar.adminPort)).toBe('connected');
      }
    } finally {
      await sidecar.close();
    }
  });
});
