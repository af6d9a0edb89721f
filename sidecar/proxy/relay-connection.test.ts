import { Agent, request } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { createServer, type Server, type TLSSocket } from 'node:tls';

import { callProxy } from '../../test/fixtures/http-call';
import { LoopbackPki } from '../../test/fixtures/loopback-pki';
import { MtlsUpstream, type UpstreamEcho } from '../../test/fixtures/mtls-upstream';
import { startFileSidecar, writeSidecarFile } from '../../test/fixtures/sidecar-harness';
import type { Sidecar } from '../sidecar';

// The proxy's own HTTP/1.1 relay on the wire: pipelining, keep-alive, the requests it hands to
// Node's server, and upstream responses of every framing, against real mutual-TLS upstreams.

/** Writes raw bytes to the proxy and collects everything until it closes the connection. */
function exchangeRaw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
  });
}

/**
 * A mutual-TLS upstream that answers each request head with the bytes `answer` gives, then
 * closes the connection if told to.
 */
class ScriptedUpstream {
  answer: (head: string) => { bytes: string; close?: boolean } = () => ({
    bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
  });
  port = 0;
  private readonly server: Server;

  constructor(pki: LoopbackPki) {
    const server = pki.server('scripted');
    this.server = createServer(
      {
        cert: server.certPem,
        key: server.keyPem,
        ca: pki.ca.certPem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (socket: TLSSocket) => this.serve(socket),
    );
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: TLSSocket): void {
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.slice(0, end);
      buffered = buffered.slice(end + 4);
      const { bytes, close } = this.answer(head);
      if (close) socket.end(bytes, 'latin1');
      else socket.write(bytes, 'latin1');
    });
    socket.on('error', () => {});
  }
}

describe('the proxy relay', () => {
  const pki = new LoopbackPki();
  const shopCert = pki.client('shop', 'shop-client');
  const upstream = new MtlsUpstream(pki);
  const scripted = new ScriptedUpstream(pki);
  let sidecar: Sidecar;
  let port: number;

  beforeAll(async () => {
    await upstream.start();
    await scripted.start();
    const file = writeSidecarFile(
      pki,
      [{ name: 'shop-cert', certFile: shopCert.certFile, keyFile: shopCert.keyFile }],
      [
        { name: 'echo', host: 'localhost', port: upstream.port, certificate: 'shop-cert' },
        { name: 'scripted', host: 'localhost', port: scripted.port, certificate: 'shop-cert' },
      ],
    );
    sidecar = await startFileSidecar(
      file,
      '--upstream-timeout',
      '2s',
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
    await scripted.stop();
    pki.dispose();
  });

  it('answers pipelined requests on one connection in order', async () => {
    const target = `http://localhost:${upstream.port}`;
    const response = await exchangeRaw(
      port,
      `GET ${target}/first HTTP/1.1\r\nHost: x\r\n\r\n` +
        `POST ${target}/second HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc` +
        `GET ${target}/third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );

    expect(response.match(/^HTTP\/1\.1 \d+/gm)).toEqual([
      'HTTP/1.1 200',
      'HTTP/1.1 200',
      'HTTP/1.1 200',
    ]);
    expect(response.match(/"path":"[^"]+"/g)).toEqual([
      '"path":"/first"',
      '"path":"/second"',
      '"path":"/third"',
    ]);
    expect(response).toMatch(/"method":"POST".*"bodyBytes":3/);
  });

  it('keeps a client connection open across requests, and says for how long', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ports = new Set<number>();
    const hints = new Set<string>();
    try {
      for (let i = 0; i < 3; i++) {
        const status = await new Promise<number>((resolve, reject) => {
          const req = request(
            {
              host: '127.0.0.1',
              port,
              path: `http://localhost:${upstream.port}/kept/${i}`,
              agent,
            },
            (res) => {
              ports.add(res.socket.localPort ?? 0);
              hints.add(`${res.headers.connection} ${res.headers['keep-alive']}`);
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          );
          req.on('error', reject);
          req.end();
        });
        expect(status).toBe(200);
      }
    } finally {
      agent.destroy();
    }
    expect(ports.size).toBe(1);
    expect([...hints]).toEqual(['keep-alive timeout=5']);
  });

  it('hands chunked and expect-continue uploads to Node, which relays them whole', async () => {
    const chunked = await callProxy(port, {
      method: 'POST',
      path: `http://localhost:${upstream.port}/chunked`,
      body: Readable.from([Buffer.alloc(1000, 'a'), Buffer.alloc(2000, 'b')]),
    });
    const continued = await callProxy(port, {
      method: 'PUT',
      path: `http://localhost:${upstream.port}/continue`,
      headers: { expect: '100-continue', 'content-length': '5' },
      body: 'hello',
    });

    expect(JSON.parse(chunked.body)).toMatchObject({ method: 'POST', bodyBytes: 3000 });
    expect(JSON.parse(continued.body)).toMatchObject({ method: 'PUT', bodyBytes: 5 });
    const echo = JSON.parse(continued.body) as UpstreamEcho;
    expect(echo.headers.expect).toBeUndefined();
  });

  it('answers HEAD without a body and serves on', async () => {
    scripted.answer = (head) =>
      head.startsWith('HEAD')
        ? { bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n' }
        : { bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok' };
    const target = `http://localhost:${scripted.port}`;

    const response = await exchangeRaw(
      port,
      `HEAD ${target}/h HTTP/1.1\r\nHost: x\r\n\r\n` +
        `GET ${target}/g HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );

    const headAnswer =
      /^HTTP\/1\.1 200 OK\r\ncontent-length: 9\r\nconnection: keep-alive\r\n[^]*?\r\n\r\n/;
    const getAnswer = /HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/;
    expect(response).toMatch(new RegExp(headAnswer.source + getAnswer.source));
  });

  it('relays a body that the upstream ends by closing, and closes too', async () => {
    scripted.answer = () => ({
      bytes: 'HTTP/1.1 200 OK\r\nx-a: 1\r\n\r\nuntil the end',
      close: true,
    });

    const response = await exchangeRaw(
      port,
      `GET http://localhost:${scripted.port}/c HTTP/1.1\r\nHost: x\r\n\r\n`,
    );

    expect(response).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(response).toMatch(/\r\nconnection: close\r\n/);
    expect(response.endsWith('\r\n\r\nuntil the end')).toBe(true);
  });

  it('passes interim responses by and relays the final one', async () => {
    scripted.answer = () => ({
      bytes:
        'HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n' +
        'HTTP/1.1 201 Created\r\ncontent-length: 4\r\n\r\ndone',
    });

    const result = await callProxy(port, { path: `http://localhost:${scripted.port}/i` });

    expect([result.status, result.body]).toEqual([201, 'done']);
  });

  it('relays an answer that comes before the whole upload, then closes', async () => {
    scripted.answer = () => ({
      bytes: 'HTTP/1.1 413 Payload Too Large\r\ncontent-length: 3\r\n\r\nbig',
      close: true,
    });

    const response = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `POST http://localhost:${scripted.port}/upload HTTP/1.1\r\nHost: x\r\n` +
            `Content-Length: 10000000\r\n\r\n${'x'.repeat(1000)}`,
        );
      });
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1');
        // The rest of the upload goes nowhere: the proxy has ended the exchange.
        socket.write('y'.repeat(100_000));
      });
      socket.on('end', () => resolve(received));
      socket.on('error', reject);
    });
    const after = await callProxy(port, { path: `http://localhost:${upstream.port}/after` });

    expect(response).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
    expect(response).toMatch(/\r\nconnection: close\r\n\r\nbig$/);
    expect(after.status).toBe(200);
  });

  it('relays a large answer to a slow reader, then still times out a silent upstream', async () => {
    const size = 32 * 1024 * 1024;
    let calls = 0;
    scripted.answer = () =>
      calls++ === 0
        ? { bytes: `HTTP/1.1 200 OK\r\ncontent-length: ${size}\r\n\r\n${'z'.repeat(size)}` }
        : { bytes: '' };

    const received = await new Promise<number>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        const target = `http://localhost:${scripted.port}/big`;
        socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      });
      let bytes = 0;
      socket.once('data', () => {
        socket.pause();
        setTimeout(() => socket.resume(), 300);
      });
      socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
      socket.on('end', () => resolve(bytes));
      socket.on('error', reject);
    });
    const silent = await callProxy(port, { path: `http://localhost:${scripted.port}/silent` });

    expect(received).toBeGreaterThan(size);
    expect(silent.status).toBe(504);
  });

  it('answers 502 for an upstream response with ambiguous framing', async () => {
    scripted.answer = () => ({
      bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
    });

    const result = await callProxy(port, { path: `http://localhost:${scripted.port}/bad` });

    expect(result.status).toBe(502);
    expect(JSON.parse(result.body)).toMatchObject({
      code: 'PROXY_UPSTREAM_UNREACHABLE',
      message: expect.stringMatching(/invalid response/),
    });
  });
});
