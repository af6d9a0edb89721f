import { connect } from 'node:net';

import { freePort } from '../../test/fixtures/free-port';
import { callProxy } from '../../test/fixtures/http-call';
import { MtlsUpstream, type UpstreamEcho } from '../../test/fixtures/mtls-upstream';
import { LoopbackPki } from '../../test/fixtures/loopback-pki';
import { startFileSidecar, writeSidecarFile } from '../../test/fixtures/sidecar-harness';
import type { Sidecar } from '../sidecar';

// The proxy against real TLS upstreams on loopback that demand the test CA's client certs.

/** Sends raw bytes to the proxy and returns the first response line and the rest. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
}

describe('the sidecar proxy', () => {
  const pki = new LoopbackPki();
  const shopCert = pki.client('shop', 'shop-client');
  const upstream = new MtlsUpstream(pki);
  const strangerPki = new LoopbackPki('Stranger CA');
  const stranger = new MtlsUpstream(strangerPki, { requireClientCert: false });
  let sidecar: Sidecar;
  let port: number;
  let file: string;
  let closedPort: number;

  beforeAll(async () => {
    await upstream.start();
    await stranger.start();
    closedPort = await freePort();
    file = writeSidecarFile(
      pki,
      [{ name: 'shop-cert', certFile: shopCert.certFile, keyFile: shopCert.keyFile }],
      [
        {
          name: 'partner',
          host: 'localhost',
          port: upstream.port,
          pathPrefix: '/api',
          certificate: 'shop-cert',
        },
        { name: 'by-ip', host: '127.0.0.1', port: upstream.port, certificate: 'shop-cert' },
        { name: 'gone', host: 'localhost', port: closedPort, certificate: 'shop-cert' },
        { name: 'stranger', host: 'localhost', port: stranger.port, certificate: 'shop-cert' },
      ],
    );
    sidecar = await startFileSidecar(
      file,
      '--upstream-timeout',
      '1s',
      '--rate',
      '1000',
      '--burst',
      '1000',
    );
    port = sidecar.proxyPort;
  });

  afterAll(async () => {
    await sidecar.close();
    await upstream.stop();
    await stranger.stop();
    pki.dispose();
    strangerPki.dispose();
  });

  beforeEach(() => {
    upstream.behaviour = 'echo';
  });

  it('serves a forward-proxy request with the mapped certificate', async () => {
    const result = await callProxy(port, {
      path: `http://localhost:${upstream.port}/api/orders?x=1`,
    });

    expect(result.status).toBe(200);
    const echo = JSON.parse(result.body) as UpstreamEcho;
    expect(echo).toMatchObject({ clientCn: 'shop-client', method: 'GET', path: '/api/orders?x=1' });
    expect(echo.headers.host).toBe(`localhost:${upstream.port}`);
  });

  it('serves a transparently redirected request, destination from the Host header', async () => {
    const result = await callProxy(port, {
      method: 'POST',
      path: '/api/pay',
      headers: { host: `localhost:${upstream.port}`, 'content-type': 'text/plain' },
      body: 'twelve bytes',
    });

    expect(result.status).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({
      clientCn: 'shop-client',
      method: 'POST',
      bodyBytes: 12,
    });
  });

  it('serves the forwarding method, replacing Authorization and dropping LP headers', async () => {
    const result = await callProxy(port, {
      method: 'PUT',
      path: '/mtls/account/shop',
      headers: {
        'lp-forward-url': `https://localhost:${upstream.port}/api/accounts/7`,
        'lp-service-name': 'checkout',
        'lp-authorization-override': 'Bearer partner-token',
        authorization: 'Bearer app-token',
        'content-length': '2',
      },
      body: '{}',
    });

    expect(result.status).toBe(200);
    const echo = JSON.parse(result.body) as UpstreamEcho;
    expect(echo).toMatchObject({ clientCn: 'shop-client', method: 'PUT', path: '/api/accounts/7' });
    expect(echo.headers.authorization).toBe('Bearer partner-token');
    expect(Object.keys(echo.headers).filter((name) => name.startsWith('lp-'))).toEqual([]);
  });

  it('strips hop-by-hop headers both ways', async () => {
    const result = await callProxy(port, {
      path: `http://localhost:${upstream.port}/api/hops`,
      headers: {
        connection: 'x-private',
        'x-private': 'hop only',
        'proxy-authorization': 'Basic c2VjcmV0',
        te: 'trailers',
        'x-kept': 'end to end',
      },
    });

    const echo = JSON.parse(result.body) as UpstreamEcho;
    expect(echo.headers['x-private']).toBeUndefined();
    expect(echo.headers['proxy-authorization']).toBeUndefined();
    expect(echo.headers.te).toBeUndefined();
    expect(echo.headers['x-kept']).toBe('end to end');
    expect(result.headers['x-upstream']).toBe('yes');
    expect(result.headers['x-upstream-hop']).toBeUndefined();
  });

  it('denies an unmapped destination with a message naming host and namespace', async () => {
    const result = await callProxy(port, { path: 'http://partner.invalid/anything' });

    expect(result.status).toBe(403);
    expect(JSON.parse(result.body)).toEqual({
      code: 'PROXY_DESTINATION_UNMAPPED',
      message: expect.stringMatching(/namespace shop covers https:\/\/partner\.invalid:443/),
    });
  });

  it('refuses loopback, link-local and metadata addresses that no mapping names', async () => {
    for (const target of [
      'http://127.0.0.2:8080/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/',
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://[::1]/',
    ]) {
      const result = await callProxy(port, { path: target });
      expect({ target, status: result.status, code: JSON.parse(result.body).code }).toEqual({
        target,
        status: 403,
        code: 'PROXY_DESTINATION_BLOCKED',
      });
    }
  });

  it('answers 424 with LP transport headers when forwarding cannot connect', async () => {
    const result = await callProxy(port, {
      path: '/mtls/account/shop',
      headers: { 'lp-forward-url': `https://localhost:${closedPort}/api/x` },
    });

    expect(result.status).toBe(424);
    expect(result.headers['lp-error-from-transport']).toBe('ECONNREFUSED');
    expect(result.headers['lp-message-from-transport']).toMatch(/could not reach localhost/);
  });

  it('answers 400 to a forwarding path whose namespace is not valid percent-encoding', async () => {
    const result = await callProxy(port, {
      path: '/mtls/account/%E0',
      headers: { 'lp-forward-url': `https://localhost:${upstream.port}/api/x` },
    });

    expect(result.status).toBe(400);
    expect(JSON.parse(result.body)).toMatchObject({
      code: 'PROXY_REQUEST_INVALID',
      message: 'the forwarding path /mtls/account/%E0 is not valid percent-encoding',
    });
  });

  it('answers 502 outside the forwarding method when the upstream refuses', async () => {
    const result = await callProxy(port, { path: `http://localhost:${closedPort}/api/x` });
    expect(result.status).toBe(502);
    expect(JSON.parse(result.body).code).toBe('PROXY_UPSTREAM_UNREACHABLE');
  });

  it('answers 502 when the upstream presents a certificate no trusted CA signed', async () => {
    const result = await callProxy(port, { path: `http://localhost:${stranger.port}/x` });

    expect(result.status).toBe(502);
    expect(JSON.parse(result.body).message).toMatch(/could not reach localhost: .*certificate/);
    expect(stranger.seenCns).toEqual([]);
  });

  it('answers 504 when the upstream never answers', async () => {
    upstream.behaviour = 'hang';
    const result = await callProxy(port, { path: `http://localhost:${upstream.port}/api/slow` });
    expect(result.status).toBe(504);
    expect(JSON.parse(result.body).code).toBe('PROXY_UPSTREAM_TIMEOUT');
  });

  it('cuts the response short when the upstream closes mid-response, serves on', async () => {
    upstream.behaviour = 'cut';
    await expect(
      callProxy(port, { path: `http://localhost:${upstream.port}/api/cut` }),
    ).rejects.toThrow();

    upstream.behaviour = 'echo';
    const after = await callProxy(port, { path: `http://localhost:${upstream.port}/api/after` });
    expect(after.status).toBe(200);
  });

  it('refuses a request with both Content-Length and Transfer-Encoding', async () => {
    const before = upstream.seenCns.length;
    const response = await rawRequest(
      port,
      `POST http://localhost:${upstream.port}/api/smuggle HTTP/1.1\r\nHost: x\r\n` +
        'Content-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n',
    );
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(upstream.seenCns.length).toBe(before);
  });

  it('refuses header injection in LP-forward-url', async () => {
    const before = upstream.seenCns.length;
    for (const forwardUrl of [
      `https://localhost:${upstream.port}/api/a\rInjected: yes`,
      `https://localhost:${upstream.port}/api/a\u0001b`,
    ]) {
      const response = await rawRequest(
        port,
        `GET /mtls/account/shop HTTP/1.1\r\nHost: x\r\nLP-forward-url: ${forwardUrl}\r\n` +
          'Connection: close\r\n\r\n',
      );
      expect(response).toMatch(/^HTTP\/1\.1 400 /);
    }
    expect(upstream.seenCns.length).toBe(before);
  });

  it('refuses CONNECT tunnels, which cannot carry a client certificate', async () => {
    const response = await rawRequest(
      port,
      'CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n',
    );
    expect(response).toMatch(/^HTTP\/1\.1 405 /);
  });

  it('reuses kept-alive TLS connections across many requests', async () => {
    const before = upstream.handshakes;
    for (let i = 0; i < 40; i++) {
      const result = await callProxy(port, {
        path: `http://127.0.0.1:${upstream.port}/reuse/${i}`,
      });
      expect(result.status).toBe(200);
    }
    expect(upstream.handshakes - before).toBeLessThanOrEqual(2);
  });

  it('reports requests, handshakes and readiness on the admin port', async () => {
    const ready = await fetch(`http://127.0.0.1:${sidecar.adminPort}/readyz`);
    const metrics = await (await fetch(`http://127.0.0.1:${sidecar.adminPort}/metrics`)).text();

    expect(ready.status).toBe(200);
    expect(metrics).toMatch(
      /mtls_proxy_requests_total\{mapped="true",upstream_host="localhost",status_class="2xx"\} \d+/,
    );
    expect(metrics).toMatch(
      /mtls_proxy_requests_total\{mapped="false",upstream_host="unmapped",status_class="4xx"\} \d+/,
    );
    expect(metrics).toMatch(/mtls_proxy_tls_handshakes_total [1-9]/);
    expect(metrics).toMatch(
      /mtls_sidecar_certificate_expiry_timestamp_seconds\{certificate="shop-cert"\} \d+/,
    );
    expect(metrics).not.toMatch(/\/api\/|127\.0\.0\.2/);
  });
});

describe('the sidecar proxy in passthrough mode', () => {
  const pki = new LoopbackPki();
  const shopCert = pki.client('shop', 'shop-client');
  const upstream = new MtlsUpstream(pki, { requireClientCert: false });

  afterAll(async () => {
    await upstream.stop();
    pki.dispose();
  });

  it('calls an unmapped path without a client certificate', async () => {
    await upstream.start();
    const file = writeSidecarFile(
      pki,
      [{ name: 'shop-cert', certFile: shopCert.certFile, keyFile: shopCert.keyFile }],
      [
        {
          name: 'only-mapped',
          host: 'localhost',
          port: upstream.port,
          pathPrefix: '/mapped',
          certificate: 'shop-cert',
        },
      ],
    );
    const sidecar = await startFileSidecar(
      file,
      '--unmapped',
      'passthrough',
      '--extra-ca-file',
      pki.ca.certFile,
    );

    try {
      const unmapped = await callProxy(sidecar.proxyPort, {
        path: `http://localhost:${upstream.port}/open`,
      });
      const mapped = await callProxy(sidecar.proxyPort, {
        path: `http://localhost:${upstream.port}/mapped/x`,
      });
      const stopped = await callProxy(sidecar.proxyPort, {
        path: '/mtls/account/shop',
        headers: {
          'lp-forward-url': `https://localhost:${upstream.port}/open`,
          'lp-stop-if-certificate-not-found': 'true',
        },
      });

      expect(unmapped.status).toBe(200);
      expect(JSON.parse(unmapped.body).clientCn).toBeNull();
      expect(JSON.parse(mapped.body).clientCn).toBe('shop-client');
      expect(stopped.status).toBe(403);
    } finally {
      await sidecar.close();
    }
  });
});
