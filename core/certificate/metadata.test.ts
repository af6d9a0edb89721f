import { generateKeyPairSync, X509Certificate } from 'node:crypto';

import { corpusDirectory, generateKey, issue } from '../../test/fixtures/certificate-corpus';
import { certificateDate, describeCertificate, describeKey, distinguishedName } from './metadata';

let corpus: { dir: string; remove: () => void };

beforeAll(() => {
  corpus = corpusDirectory();
}, 60_000);

afterAll(() => corpus.remove());

function selfSigned(name: string, keySpec: string, subject: string): X509Certificate {
  const keyPath = generateKey(corpus.dir, name, keySpec);
  return new X509Certificate(issue(corpus.dir, { name, keyPath, subject }).certPem);
}

describe('describeCertificate', () => {
  it('describes an RSA leaf in the forms status shows', () => {
    const cert = selfSigned('rsa', 'rsa:2048', '/C=FR/O=Banque, S.A./OU=Paiements+L=Paris/CN=api');

    const metadata = describeCertificate(cert);

    expect(metadata).toEqual({
      subject: 'CN=api,L=Paris+OU=Paiements,O=Banque\\, S.A.,C=FR',
      issuer: 'CN=api,L=Paris+OU=Paiements,O=Banque\\, S.A.,C=FR',
      serialNumber: cert.serialNumber.toUpperCase(),
      notBefore: certificateDate(cert.validFrom).toISOString(),
      notAfter: certificateDate(cert.validTo).toISOString(),
      keyAlgorithm: 'RSA',
      keySize: 2048,
      fingerprintSha256: cert.fingerprint256,
    });
    expect(metadata?.serialNumber).toMatch(/^[0-9A-F]+$/);
    expect(metadata?.notAfter).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);
  });

  it('names the curve of an EC leaf, and leaves out keys the checks refuse', () => {
    const ec = describeCertificate(selfSigned('p521', 'ec:P-521', '/CN=p521'));
    expect([ec?.keyAlgorithm, ec?.keySize, ec?.curve]).toEqual(['EC', 521, 'P-521']);

    expect(describeCertificate(selfSigned('ed', 'ed25519', '/CN=ed'))).toBeUndefined();
  });
});

describe('describeKey', () => {
  it('reports size and curve from Node crypto', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey;

    expect(describeKey(rsa)).toEqual({ type: 'rsa', bits: 1024 });
    expect(describeKey(p384)).toEqual({ type: 'ec', curve: 'P-384', bits: 384 });
    expect(describeKey(k1)).toEqual({ type: 'ec', curve: 'secp256k1', bits: undefined });
  });
});

describe('certificateDate', () => {
  it('reads the dates X509Certificate prints', () => {
    expect(certificateDate('Dec  3 16:09:21 2026 GMT').toISOString()).toBe(
      '2026-12-03T16:09:21.000Z',
    );
    expect(certificateDate('Feb 29 00:00:00 2052 GMT').toISOString()).toBe(
      '2052-02-29T00:00:00.000Z',
    );
    expect(() => certificateDate('2026-12-03')).toThrow("unexpected certificate date '2026-12-03'");
  });
});

describe('distinguishedName', () => {
  it('puts the most specific attribute first', () => {
    expect(distinguishedName('C=US\nO=Acme\nCN=client')).toBe('CN=client,O=Acme,C=US');
  });
});
