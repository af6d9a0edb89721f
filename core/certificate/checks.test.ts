import { X509Certificate } from 'node:crypto';

import {
  corpusDirectory,
  generateKey,
  issue,
  type Issued,
} from '../../test/fixtures/certificate-corpus';
import { checkClientAuth, checkKeyStrength, checkValidity } from './checks';

let corpus: { dir: string; remove: () => void };

beforeAll(() => {
  corpus = corpusDirectory();
}, 120_000);

afterAll(() => corpus.remove());

function selfSigned(name: string, keySpec: string, extendedKeyUsage?: string): X509Certificate {
  const keyPath = generateKey(corpus.dir, name, keySpec);
  const issued: Issued = issue(corpus.dir, {
    name,
    keyPath,
    subject: `/CN=${name}`,
    extendedKeyUsage,
    days: 90,
  });
  return new X509Certificate(issued.certPem);
}

function codes(findings: { code: string }[]): string[] {
  return findings.map((finding) => finding.code);
}

describe('checkKeyStrength', () => {
  it('accepts RSA 2048 and the NIST curves', () => {
    for (const spec of ['rsa:2048', 'ec:P-256', 'ec:P-384', 'ec:P-521']) {
      expect(checkKeyStrength(selfSigned(spec.replace(':', '-'), spec))).toEqual([]);
    }
  });

  it('refuses short RSA keys as too weak', () => {
    const findings = checkKeyStrength(selfSigned('rsa-1024', 'rsa:1024'));

    expect(codes(findings)).toEqual(['KEY_TOO_WEAK']);
    expect(findings[0].message).toContain('1024 bits, fewer than the 2048 required');
  });

  it('refuses other curves and key types as unsupported', () => {
    const k1 = checkKeyStrength(selfSigned('k1', 'ec:secp256k1'));
    expect(codes(k1)).toEqual(['KEY_UNSUPPORTED']);
    expect(k1[0].message).toContain('curve secp256k1');

    const ed = checkKeyStrength(selfSigned('ed', 'ed25519'));
    expect(codes(ed)).toEqual(['KEY_UNSUPPORTED']);
    expect(ed[0].message).toContain('CN=ed uses a key of type ED25519');

    expect(codes(checkKeyStrength(selfSigned('dsa', 'dsa:1024')))).toEqual(['KEY_UNSUPPORTED']);
  }, 60_000);
});

describe('checkValidity', () => {
  it('refuses before and after the window, and warns in its last 30 days', () => {
    const cert = selfSigned('dates', 'ec:P-256');
    const notBefore = new Date(cert.validFrom);
    const notAfter = new Date(cert.validTo);
    const day = 24 * 60 * 60 * 1000;

    expect(checkValidity(cert, new Date(notBefore.getTime() + day))).toEqual({
      problems: [],
      warnings: [],
    });

    const soon = checkValidity(cert, new Date(notAfter.getTime() - 10 * day));
    expect(codes(soon.warnings)).toEqual(['CERT_EXPIRES_SOON']);
    expect(soon.warnings[0].message).toContain('in 10 day(s)');

    const expired = checkValidity(cert, new Date(notAfter.getTime() + 1000));
    expect(codes(expired.problems)).toEqual(['CERT_EXPIRED']);
    expect(expired.problems[0].message).toContain(`expired on ${notAfter.toISOString()}`);

    const early = checkValidity(cert, new Date(notBefore.getTime() - 1000));
    expect(codes(early.problems)).toEqual(['CERT_NOT_YET_VALID']);
    expect(early.problems[0].message).toContain(`not valid before ${notBefore.toISOString()}`);
  });
});

describe('checkClientAuth', () => {
  it('accepts clientAuth, anyExtendedKeyUsage, or no extended key usage at all', () => {
    expect(checkClientAuth(selfSigned('client', 'ec:P-256', 'serverAuth,clientAuth'))).toEqual([]);
    expect(checkClientAuth(selfSigned('any', 'ec:P-256', 'anyExtendedKeyUsage'))).toEqual([]);
    expect(checkClientAuth(selfSigned('none', 'ec:P-256'))).toEqual([]);
  });

  it('refuses a certificate limited to other uses, naming them', () => {
    const findings = checkClientAuth(selfSigned('server', 'ec:P-256', 'serverAuth,codeSigning'));

    expect(codes(findings)).toEqual(['CERT_NOT_CLIENT_AUTH']);
    expect(findings[0].message).toContain('(serverAuth, codeSigning) does not include clientAuth');
  });
});
