import { callProxy } from '../../test/fixtures/http-call';
import { LoopbackPki } from '../../test/fixtures/loopback-pki';
import { MtlsUpstream } from '../../test/fixtures/mtls-upstream';
import { startFileSidecar, writeSidecarFile } from '../../test/fixtures/sidecar-harness';
import type { Sidecar } from '../sidecar';

// What a real TLS upstream sees of the proxy's connections: the SNI it sends and the sessions
// it resumes.

describe('the TLS connections the proxy opens upstream', () => {
  const pki = new LoopbackPki();
  const shopCert = pki.client('shop', 'shop-client');
  const resumeCert = pki.client('resume', 'resume-client');
  const upstream = new MtlsUpstream(pki);
  let sidecar: Sidecar;

  beforeAll(async () => {
    await upstream.start();
    const certificate = {
      name: 'shop-cert',
      certFile: shopCert.certFile,
      keyFile: shopCert.keyFile,
    };
    const resume = {
      name: 'resume-cert',
      certFile: resumeCert.certFile,
      keyFile: resumeCert.keyFile,
    };
    // The resume mapping has a certificate, and so a pool, of its own: no session of another
    // test's connections is in it.
    const file = writeSidecarFile(
      pki,
      [certificate, resume],
      [
        {
          name: 'resume',
          host: 'localhost',
          port: upstream.port,
          pathPrefix: '/resume',
          certificate: 'resume-cert',
        },
        { name: 'by-name', host: 'localhost', port: upstream.port, certificate: 'shop-cert' },
        { name: 'by-ip', host: '127.0.0.1', port: upstream.port, certificate: 'shop-cert' },
      ],
    );
    sidecar = await startFileSidecar(file, '--rate', '1000', '--burst', '1000');
  });

  afterAll(async () => {
    await sidecar.close();
    await upstream.stop();
    pki.dispose();
  });

  beforeEach(() => {
    upstream.closeConnections();
    upstream.connections.length = 0;
  });

  async function call(host: string, path = '/tls'): Promise<void> {
    const result = await callProxy(sidecar.proxyPort, {
      path: `http://${host}:${upstream.port}${path}`,
    });
    expect(result.status).toBe(200);
  }

  it('sends the mapped host name as SNI', async () => {
    await call('localhost');

    expect(upstream.connections.map((connection) => connection.servername)).toEqual(['localhost']);
  });

  it('sends no SNI to an IP literal', async () => {
    await call('127.0.0.1');

    expect(upstream.connections.map((connection) => connection.servername)).toEqual([false]);
  });

  it('resumes the TLS session on a new connection once the upstream closed the first', async () => {
    await call('localhost', '/resume/first');
    await call('localhost', '/resume/kept-alive');
    expect(upstream.connections).toHaveLength(1);

    upstream.closeConnections();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await call('localhost', '/resume/second');

    expect(upstream.seenCns.slice(-3)).toEqual(['resume-client', 'resume-client', 'resume-client']);
    expect(upstream.connections).toEqual([
      { servername: 'localhost', sessionReused: false },
      { servername: 'localhost', sessionReused: true },
    ]);
  });
});
