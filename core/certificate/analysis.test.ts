import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';

import { type Issued, useCorpusPki } from '../../test/fixtures/certificate-corpus';
import {
  exportPkcs12,
  forgePkcs12,
  P12_PASSWORD,
  P12_PROTECTIONS,
} from '../../test/fixtures/pkcs12-corpus';
import { analyzePem, analyzePkcs12, type CertificateAnalysis } from './analysis';

const NOW = new Date('2027-06-01T00:00:00Z');

const pki = useCorpusPki();

function codes(analysis: CertificateAnalysis): string[] {
  return analysis.problems.map((problem) => problem.code);
}

function p12(leaf: Issued, protection: keyof typeof P12_PROTECTIONS, chain?: Issued[]): Buffer {
  const certs = chain ?? [pki.intermediate, pki.root];
  return exportPkcs12(pki.dir, leaf, certs, P12_PROTECTIONS[protection]).bytes;
}

function fingerprints(pems: string[]): string[] {
  return pems.map((pem) => new X509Certificate(pem).fingerprint256);
}

function chainOf(analysis: CertificateAnalysis): string[] {
  return analysis.bundle!.chainPem.match(
    /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g,
  )!;
}

describe('analyzePkcs12', () => {
  it.each([
    ['legacy RC2-40', 'leaf', 'legacyRc2'],
    ['legacy 3DES', 'leaf', 'legacy3des'],
    ['modern AES-256', 'leaf', 'modern'],
    ['EC P-256 modern', 'ecLeaf', 'modern'],
    ['EC P-256 legacy', 'ecLeaf', 'legacyRc2'],
  ] as const)('accepts a %s file and normalizes it to PEM', (_label, leaf, protection) => {
    const analysis = analyzePkcs12(p12(pki[leaf], protection), P12_PASSWORD, { now: NOW });

    expect(analysis.problems).toEqual([]);
    expect(analysis.usable).toBe(true);
    const bundle = analysis.bundle!;
    expect(bundle.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(fingerprints(chainOf(analysis))).toEqual(
      fingerprints([pki[leaf].certPem, pki.intermediate.certPem, pki.root.certPem]),
    );
    const key = createPrivateKey(bundle.privateKeyPem);
    expect(new X509Certificate(chainOf(analysis)[0]).checkPrivateKey(key)).toBe(true);
    expect(bundle.metadata).toEqual(analysis.metadata);
    expect(analysis.javaCompatibility?.readableBy.length).toBeGreaterThan(0);
  });

  it('reports the metadata of the leaf', () => {
    const analysis = analyzePkcs12(p12(pki.ecLeaf, 'modern'), P12_PASSWORD, { now: NOW });
    const leaf = new X509Certificate(pki.ecLeaf.certPem);

    expect(analysis.metadata).toEqual({
      subject: 'CN=ec-leaf,O=Acme\\, Inc.,C=DE',
      issuer: 'CN=Corpus Issuing CA,O=Corpus',
      serialNumber: leaf.serialNumber,
      notBefore: new Date(leaf.validFrom).toISOString(),
      notAfter: new Date(leaf.validTo).toISOString(),
      keyAlgorithm: 'EC',
      keySize: 256,
      curve: 'P-256',
      fingerprintSha256: leaf.fingerprint256,
    });
    expect(analysis.metadata?.fingerprintSha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('tells a wrong password from a file that is not a PKCS#12', () => {
    const bytes = p12(pki.leaf, 'modern');

    const wrong = analyzePkcs12(bytes, 'not-the-password', { now: NOW });
    expect(codes(wrong)).toEqual(['P12_BAD_PASSWORD']);
    expect(wrong.problems[0].message).not.toContain('not-the-password');
    expect(wrong.javaCompatibility?.readableBy).toEqual(['8u301+', '11.0.12+', '17+']);

    const truncated = analyzePkcs12(bytes.subarray(0, bytes.length - 100), P12_PASSWORD);
    expect(codes(truncated)).toEqual(['P12_MALFORMED']);
    expect(truncated.javaCompatibility).toBeUndefined();
    expect(codes(analyzePkcs12(randomBytes(2048), P12_PASSWORD))).toEqual(['P12_MALFORMED']);
    expect(codes(analyzePkcs12(Buffer.from(pki.leaf.certPem), P12_PASSWORD))).toEqual([
      'P12_MALFORMED',
    ]);
  });

  it('warns when no known Java version reads the file', () => {
    const camellia = ['-keypbe', 'CAMELLIA-256-CBC', '-certpbe', 'CAMELLIA-256-CBC'];
    const file = exportPkcs12(pki.dir, pki.leaf, [], camellia);

    const analysis = analyzePkcs12(file.bytes, P12_PASSWORD, { now: NOW });

    expect(codes(analysis)).toEqual(['P12_UNSUPPORTED_ALGORITHM']);
    expect(analysis.warnings.map((warning) => warning.code)).toEqual(['P12_JAVA_UNREADABLE']);
    expect(analysis.javaCompatibility?.readableBy).toEqual([]);
  });

  it('refuses input over 64 KiB before parsing it', () => {
    const analysis = analyzePkcs12(randomBytes(64 * 1024 + 1), P12_PASSWORD);

    expect(codes(analysis)).toEqual(['INPUT_TOO_LARGE']);
    expect(analysis.problems[0].message).toContain('65537 bytes');
  });

  it('refuses weak keys, wrong dates and server-only certificates, naming the cause', () => {
    const weak = analyzePkcs12(p12(pki.weakLeaf, 'modern'), P12_PASSWORD, { now: NOW });
    expect(codes(weak)).toEqual(['KEY_TOO_WEAK']);
    expect(weak.problems[0].message).toContain('1024 bits');
    expect(weak.bundle).toBeUndefined();
    expect(weak.metadata?.keySize).toBe(1024);

    const expired = analyzePkcs12(p12(pki.expiredLeaf, 'modern'), P12_PASSWORD, { now: NOW });
    expect(codes(expired)).toEqual(['CERT_EXPIRED']);
    expect(expired.problems[0].message).toContain('2020-12-31T00:00:00.000Z');

    const future = analyzePkcs12(p12(pki.futureLeaf, 'legacyRc2'), P12_PASSWORD, { now: NOW });
    expect(codes(future)).toEqual(['CERT_NOT_YET_VALID']);
    expect(future.problems[0].message).toContain('2099-01-01T00:00:00.000Z');

    const server = analyzePkcs12(p12(pki.serverLeaf, 'modern'), P12_PASSWORD, { now: NOW });
    expect(codes(server)).toEqual(['CERT_NOT_CLIENT_AUTH']);
    expect(server.problems[0].message).toContain('serverAuth');
  });

  it('reorders a chain given out of order and refuses a broken one', () => {
    const shuffled = p12(pki.leaf, 'modern', [pki.root, pki.intermediate]);
    const reordered = analyzePkcs12(shuffled, P12_PASSWORD, { now: NOW });
    expect(reordered.usable).toBe(true);
    expect(reordered.warnings.map((w) => w.code)).toEqual(['CHAIN_REORDERED']);
    expect(fingerprints(chainOf(reordered))).toEqual(
      fingerprints([pki.leaf.certPem, pki.intermediate.certPem, pki.root.certPem]),
    );

    const broken = p12(pki.leaf, 'modern', [pki.unrelatedRoot]);
    const analysis = analyzePkcs12(broken, P12_PASSWORD, { now: NOW });
    expect(codes(analysis)).toEqual(['CHAIN_INVALID']);
    expect(analysis.problems[0].message).toContain('CN=Unrelated Root CA');
  });

  it('refuses a mismatched key, two keys, no key (files openssl will not make)', () => {
    const mismatch = forgePkcs12([pki.leaf.certPem], [pki.otherKeyPem]);
    expect(codes(analyzePkcs12(mismatch, P12_PASSWORD, { now: NOW }))).toEqual([
      'CERT_KEY_MISMATCH',
    ]);

    const twoKeys = forgePkcs12([pki.leaf.certPem], [pki.leaf.keyPem, pki.otherKeyPem]);
    const analysis = analyzePkcs12(twoKeys, P12_PASSWORD, { now: NOW });
    expect(codes(analysis)).toEqual(['KEY_MULTIPLE']);
    expect(analysis.problems[0].message).toContain('2 private keys');

    expect(codes(analyzePkcs12(forgePkcs12([pki.leaf.certPem], []), P12_PASSWORD))).toEqual([
      'KEY_MISSING',
    ]);
    expect(codes(analyzePkcs12(forgePkcs12([], [pki.leaf.keyPem]), P12_PASSWORD))).toEqual([
      'CERT_MISSING',
    ]);
  });

  it('never puts key material in its findings', () => {
    const twoKeys = forgePkcs12([pki.weakLeaf.certPem], [pki.leaf.keyPem, pki.otherKeyPem]);
    const analysis = analyzePkcs12(twoKeys, P12_PASSWORD, { now: new Date('2030-01-01') });

    const text = JSON.stringify(analysis);
    expect(text).not.toContain(P12_PASSWORD);
    expect(text).not.toContain('PRIVATE KEY');
  });
});

describe('analyzePem', () => {
  it('accepts a certificate, a key and a separate CA chain, in any order', () => {
    const analysis = analyzePem(
      {
        certificatePem: pki.root.certPem + pki.ecLeaf.certPem,
        privateKeyPem: pki.ecLeaf.keyPem,
        caPem: pki.intermediate.certPem,
      },
      { now: NOW },
    );

    expect(analysis.problems).toEqual([]);
    expect(analysis.warnings.map((w) => w.code)).toEqual(['CHAIN_REORDERED']);
    expect(fingerprints(chainOf(analysis))).toEqual(
      fingerprints([pki.ecLeaf.certPem, pki.intermediate.certPem, pki.root.certPem]),
    );
    expect(analysis.javaCompatibility).toBeUndefined();
  });

  it('reports every problem it finds at once', () => {
    const analysis = analyzePem(
      { certificatePem: pki.weakLeaf.certPem, privateKeyPem: pki.otherKeyPem },
      { now: new Date('2040-01-01T00:00:00Z') },
    );

    expect(codes(analysis)).toEqual(['CERT_KEY_MISMATCH', 'KEY_TOO_WEAK', 'CERT_EXPIRED']);
    expect(analysis.usable).toBe(false);
  });

  it('refuses malformed PEM', () => {
    const analysis = analyzePem({ certificatePem: 'hello', privateKeyPem: pki.leaf.keyPem });

    expect(codes(analysis)).toEqual(['PEM_MALFORMED']);
    expect(analysis.problems[0].message).toContain('certificatePem holds no PEM block');
  });
});
