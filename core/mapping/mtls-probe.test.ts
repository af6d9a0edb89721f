import { LoopbackPki } from '../../test/fixtures/loopback-pki';
import { MtlsUpstream } from '../../test/fixtures/mtls-upstream';
import { probeMutualTls } from './mtls-probe';

// The live probe against a real mutual-TLS server on loopback.

const pki = new LoopbackPki();
const stranger = new LoopbackPki('Stranger CA');
const upstream = new MtlsUpstream(pki);
const client = pki.client('probe-client');
const strangerClient = stranger.client('stranger-client');

beforeAll(() => upstream.start());

afterAll(async () => {
  await upstream.stop();
  pki.dispose();
  stranger.dispose();
});

function probe(
  credentials: { certPem: string; keyPem: string },
  extraCaPems: string[],
  host = 'localhost',
  port = upstream.port,
) {
  return probeMutualTls(
    { host, port, path: '/v2/health?probe=1' },
    { chainPem: credentials.certPem, privateKeyPem: credentials.keyPem, extraCaPems },
    5000,
    'mtls-probe-test',
  );
}

describe('probeMutualTls', () => {
  it('presents the certificate and reports the handshake and the HTTP answer', async () => {
    const outcome = await probe(client, [pki.ca.certPem]);

    expect(outcome).toEqual({
      ok: true,
      tlsVersion: 'TLSv1.3',
      serverSubject: 'CN=localhost',
      httpStatus: 200,
    });
    expect(upstream.seenCns.at(-1)).toBe('probe-client');
  });

  it('dials an IP address without SNI and verifies it against the certificate', async () => {
    const outcome = await probe(client, [pki.ca.certPem], '127.0.0.1');
    expect(outcome.ok).toBe(true);
  });

  it('fails when the server refuses the client certificate after the handshake', async () => {
    const outcome = await probe(strangerClient, [pki.ca.certPem]);

    expect(outcome.ok).toBe(false);
    expect(outcome.tlsVersion).toBe('TLSv1.3');
    expect(outcome.error).toContain(`localhost:${upstream.port}: the server ended the connection`);
    expect(outcome.httpStatus).toBeUndefined();
  });

  it('fails when the server certificate is not trusted', async () => {
    const outcome = await probe(client, []);
    expect(outcome.ok).toBe(false);
    expect(outcome.error).toMatch(/localhost:\d+: .*(self-signed|issuer certificate)/);
  });

  it('fails with the transport error of a closed port', async () => {
    const outcome = await probe(client, [pki.ca.certPem], '127.0.0.1', 9);
    expect(outcome).toEqual({
      ok: false,
      error: expect.stringMatching(/^127\.0\.0\.1:9: .*ECONNREFUSED/),
    });
  });
});
