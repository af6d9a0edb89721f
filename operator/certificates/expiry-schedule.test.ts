import { X509Certificate } from 'node:crypto';

import forge from 'node-forge';

import { checkValidity, EXPIRY_WARNING_DAYS } from '../../core/certificate/checks';
import { ErrorCode } from '../../core/errors/codes';
import { earliest, expiryWarningStart, nextExpiryCheck, requeueDelayMs } from './expiry-schedule';

const DAY_MS = 24 * 3600 * 1000;
const notAfter = new Date('2030-06-30T12:00:00.000Z');
const warningStart = new Date(notAfter.getTime() - EXPIRY_WARNING_DAYS * DAY_MS);

// A self-signed certificate valid until notAfter, for the analysis to judge.
function certificateUntil(until: Date): X509Certificate {
  const keys = forge.pki.rsa.generateKeyPair(1024);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date('2020-01-01T00:00:00Z');
  cert.validity.notAfter = until;
  cert.setSubject([{ shortName: 'CN', value: 'schedule' }]);
  cert.setIssuer([{ shortName: 'CN', value: 'schedule' }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return new X509Certificate(forge.pki.certificateToPem(cert));
}

describe('nextExpiryCheck', () => {
  it('is the start of the warning window while the certificate is before it', () => {
    expect(expiryWarningStart(notAfter)).toEqual(warningStart);
    expect(nextExpiryCheck(notAfter, new Date('2030-01-01T00:00:00Z'))).toEqual(warningStart);
    expect(nextExpiryCheck(notAfter, warningStart)).toEqual(warningStart);
  });

  it('is notAfter once the certificate is inside the window', () => {
    const inside = new Date(warningStart.getTime() + 1);
    expect(nextExpiryCheck(notAfter, inside)).toEqual(notAfter);
    expect(nextExpiryCheck(notAfter, new Date(notAfter.getTime() - 1000))).toEqual(notAfter);
  });

  it('brings a look within seconds of each change of the analysis: the warning, the expiry', () => {
    const leaf = certificateUntil(notAfter);
    const codeAt = (at: Date) => {
      const { problems, warnings } = checkValidity(leaf, at);
      return [...problems, ...warnings][0]?.code ?? 'none';
    };
    const firstSeen = new Map<string, Date>();
    let look = new Date('2030-01-01T00:00:00Z');
    while (!firstSeen.has(ErrorCode.CertExpired)) {
      const code = codeAt(look);
      if (!firstSeen.has(code)) firstSeen.set(code, look);
      look = new Date(look.getTime() + requeueDelayMs(nextExpiryCheck(notAfter, look), look)!);
    }

    const lateBy = (code: string, moment: Date) =>
      firstSeen.get(code)!.getTime() - moment.getTime();
    expect([...firstSeen.keys()]).toEqual([
      'none',
      ErrorCode.CertExpiresSoon,
      ErrorCode.CertExpired,
    ]);
    expect(lateBy(ErrorCode.CertExpiresSoon, warningStart)).toBeGreaterThan(0);
    expect(lateBy(ErrorCode.CertExpiresSoon, warningStart)).toBeLessThanOrEqual(2000);
    expect(lateBy(ErrorCode.CertExpired, notAfter)).toBeGreaterThan(0);
    expect(lateBy(ErrorCode.CertExpired, notAfter)).toBeLessThanOrEqual(2000);
  });
});

describe('requeueDelayMs', () => {
  const now = new Date('2030-06-01T00:00:00Z');

  it('comes a second after the moment, and never sooner than a second', () => {
    expect(requeueDelayMs(new Date(now.getTime() + 5000), now)).toBe(6000);
    expect(requeueDelayMs(new Date(now.getTime() - 60_000), now)).toBe(1000);
  });

  it('is at most a day, and absent without a moment', () => {
    expect(requeueDelayMs(new Date(now.getTime() + 10 * DAY_MS), now)).toBe(DAY_MS);
    expect(requeueDelayMs(undefined, now)).toBeUndefined();
  });
});

describe('earliest', () => {
  it('takes the earlier moment, or the one given', () => {
    const a = new Date('2030-01-01T00:00:00Z');
    const b = new Date('2031-01-01T00:00:00Z');
    expect(earliest(a, b)).toBe(a);
    expect(earliest(b, a)).toBe(a);
    expect(earliest(undefined, b)).toBe(b);
    expect(earliest(undefined, undefined)).toBeUndefined();
  });
});
