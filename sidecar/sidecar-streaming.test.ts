import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

import { callProxy } from '../test/fixtures/http-call';
import { LoopbackPki } from '../test/fixtures/loopback-pki';
import { MtlsUpstream } from '../test/fixtures/mtls-upstream';
import { startFileSidecar, writeSidecarFile } from '../test/fixtures/sidecar-harness';
import type { Sidecar } from './sidecar';

// The whole sidecar in standalone file mode streams bodies both ways against real mutual-TLS
// upstreams: its memory stays far below a body's size, and a slow client holds the upstream back.

const SIZE = 256 * 1024 * 1024;

// Garbage not yet collected adds a roughly constant 40-60 MB whatever the size; buffering a
// body would add the body's size.
const MEMORY_BOUND = SIZE * 0.4;

// Distinct random pieces, a prime number of them, so that lost, repeated or reordered bytes
// change the digest.
const PIECES = Array.from({ length: 7 }, () => randomBytes(64 * 1024));

function* answerPieces(onPiece: (piece: Buffer) => void = () => {}): Generator<Buffer> {
  for (let sent = 0, i = 0; sent < SIZE; sent += PIECES[i].length, i = (i + 1) % PIECES.length) {
    onPiece(PIECES[i]);
    yield PIECES[i];
  }
}

/**
 * A mutual-TLS upstream that answers every request with SIZE bytes made as its connection takes
 * them (so it holds none of the answer itself), counting the bytes handed to the connection.
 */
class StreamingUpstream {
  port = 0;
  /** Body bytes of the latest answer handed to the connection so far. */
  sent = 0;
  private readonly server: Server;

  constructor(pki: LoopbackPki) {
    const server = pki.server('streaming');
    const tls = { cert: server.certPem, key: server.keyPem, ca: pki.ca.certPem };
    this.server = createServer(
      { ...tls, requestCert: true, rejectUnauthorized: true },
      (req, res) => {
        req.resume();
        this.sent = 0;
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': SIZE });
        Readable.from(answerPieces((piece) => (this.sent += piece.length))).pipe(res);
      },
    );
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** What a client that counts and hashes an answer, keeping none of it, received. */
type Download = { status: number; bytes: number; digest: string };

/**
 * Downloads through the proxy. `handOver` sends a chunked request, which the relay hands to
 * Node's server; `whilePaused` runs with reading stopped after the first body bytes.
 */
function download(
  port: number,
  target: string,
  options: { handOver?: boolean; whilePaused?: () => Promise<void> } = {},
): Promise<Download> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: options.handOver ? 'POST' : 'GET',
        path: target,
        agent: false,
      },
      (res) => {
        const hash = createHash('sha256');
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          if (bytes === 0 && options.whilePaused) {
            res.pause();
            options.whilePaused().then(() => res.resume(), reject);
          }
          bytes += chunk.length;
          hash.update(chunk);
        });
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, bytes, digest: hash.digest('hex') }),
        );
      },
    );
    req.on('error', reject);
    if (options.handOver) req.setHeader('transfer-encoding', 'chunked');
    req.end(options.handOver ? 'x' : undefined);
  });
}

/** Runs `work` while sampling the process's resident memory, and says how far it rose. */
async function measured<T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const result = await work();
    return { result, growth: peak - baseline };
  } finally {
    clearInterval(sampler);
  }
}

describe('the sidecar streaming', () => {
  const pki = new LoopbackPki();
  const client = pki.client('shop', 'shop');
  const echo = new MtlsUpstream(pki);
  const streaming = new StreamingUpstream(pki);
  let expected: Download;
  let sidecar: Sidecar;

  beforeAll(async () => {
    const digest = createHash('sha256');
    for (const piece of answerPieces()) digest.update(piece);
    expected = { status: 200, bytes: SIZE, digest: digest.digest('hex') };
    await echo.start();
    await streaming.start();
    const file = writeSidecarFile(
      pki,
      [{ name: 'shop-cert', certFile: client.certFile, keyFile: client.keyFile }],
      [
        { name: 'echo', host: 'localhost', port: echo.port, certificate: 'shop-cert' },
        { name: 'streaming', host: 'localhost', port: streaming.port, certificate: 'shop-cert' },
      ],
    );
    sidecar = await startFileSidecar(file);
  });

  afterAll(async () => {
    await sidecar.close();
    await echo.stop();
    await streaming.stop();
    pki.dispose();
  });

  it('streams a 256 MB upload through with memory far below its size', async () => {
    const { result, growth } = await measured(() =>
      callProxy(sidecar.proxyPort, {
        method: 'POST',
        path: `http://localhost:${echo.port}/upload`,
        headers: { 'content-length': String(SIZE) },
        body: Readable.from(answerPieces()),
      }),
    );

    expect(result.status).toBe(200);
    expect(JSON.parse(result.body).bodyBytes).toBe(SIZE);
    expect(growth).toBeLessThan(MEMORY_BOUND);
  });

  it.each([
    ['its own relay', false],
    ["Node's server", true],
  ])('streams a 256 MB answer through %s with memory far below its size', async (_, handOver) => {
    const target = `http://localhost:${streaming.port}/download`;

    const { result, growth } = await measured(() =>
      download(sidecar.proxyPort, target, { handOver }),
    );

    expect(result).toEqual(expected);
    expect(growth).toBeLessThan(MEMORY_BOUND);
  });

  it('holds the upstream back while a client reads nothing, instead of buffering', async () => {
    const target = `http://localhost:${streaming.port}/slow`;
    let sentWhilePaused = 0;
    const whilePaused = async (): Promise<void> => {
      // The upstream stalls once the buffers between it and the paused client are full.
      let before = -1;
      while (streaming.sent !== before) {
        before = streaming.sent;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      sentWhilePaused = streaming.sent;
    };

    const { result, growth } = await measured(() =>
      download(sidecar.proxyPort, target, { whilePaused }),
    );

    expect(result).toEqual(expected);
    expect(growth).toBeLessThan(MEMORY_BOUND);
    // What the client has not read yet is held only in socket buffers along the way (the
    // kernel's, on two loopback connections: tens of MB at most), not by the sidecar.
    expect(sentWhilePaused).toBeGreaterThan(0);
    expect(sentWhilePaused).toBeLessThan(MEMORY_BOUND);
  });
});
