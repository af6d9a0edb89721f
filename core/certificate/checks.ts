import type { X509Certificate } from 'node:crypto';

import { ErrorCode } from '../errors/codes';
import { nameOfCertificate } from './chain';
import type { CertificateFinding } from './finding';
import { certificateDate, describeKey } from './metadata';

/** The smallest RSA modulus accepted, as current CA/Browser and NIST guidance require. */
export const MIN_RSA_BITS = 2048;

/** EC curves accepted: the NIST curves every TLS stack (Node, Java, Go) supports. */
export const ACCEPTED_CURVES = ['P-256', 'P-384', 'P-521'];

/** How close to its end a certificate's validity draws a warning. */
export const EXPIRY_WARNING_DAYS = 30;

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';
const DAY_MS = 24 * 60 * 60 * 1000;

/** Refuses keys too weak or of a type not used for TLS client authentication here. */
export function checkKeyStrength(leaf: X509Certificate): CertificateFinding[] {
  const key = describeKey(leaf.publicKey);

  if (key.type === 'rsa') {
    if ((key.bits ?? 0) >= MIN_RSA_BITS) return [];
    return [
      {
        code: ErrorCode.KeyTooWeak,
        message:
          `The RSA key has ${key.bits} bits, fewer than the ${MIN_RSA_BITS} required; have the ` +
          `certificate issued again for an RSA key of ${MIN_RSA_BITS} bits or more, or EC P-256`,
      },
    ];
  }
  if (key.type === 'ec') {
    if (key.curve !== undefined && ACCEPTED_CURVES.includes(key.curve)) return [];
    return [
      {
        code: ErrorCode.KeyUnsupported,
        message:
          `The EC key uses curve ${key.curve ?? 'unknown'}, which is not accepted; ` +
          `use ${ACCEPTED_CURVES.join(', ')}`,
      },
    ];
  }
  return [
    {
      code: ErrorCode.KeyUnsupported,
      message:
        `The certificate ${nameOfCertificate(leaf)} has a ${key.type.toUpperCase()} key, ` +
        `which is not accepted; use an RSA key of ${MIN_RSA_BITS} bits or more, ` +
        `or an EC key on ${ACCEPTED_CURVES.join(', ')}`,
    },
  ];
}

/** Checks the leaf's validity window at `now`: problems when outside, a warning near its end. */
export function checkValidity(
  leaf: X509Certificate,
  now: Date,
): { problems: CertificateFinding[]; warnings: CertificateFinding[] } {
  const notBefore = certificateDate(leaf.validFrom);
  const notAfter = certificateDate(leaf.validTo);

  if (now.getTime() > notAfter.getTime()) {
    const message =
      `The certificate expired on ${notAfter.toISOString()} ` +
      `(valid from ${notBefore.toISOString()}); ask its issuer for a renewed certificate`;
    return { problems: [{ code: ErrorCode.CertExpired, message }], warnings: [] };
  }
  if (now.getTime() < notBefore.getTime()) {
    const message =
      `The certificate is not valid before ${notBefore.toISOString()} ` +
      `(until ${notAfter.toISOString()}); use it once that date has passed, ` +
      'or ask its issuer for one valid now';
    return { problems: [{ code: ErrorCode.CertNotYetValid, message }], warnings: [] };
  }

  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  if (daysLeft >= EXPIRY_WARNING_DAYS) return { problems: [], warnings: [] };
  const message =
    `The certificate expires on ${notAfter.toISOString()}, in ${daysLeft} days; ` +
    'arrange its renewal';
  return { problems: [], warnings: [{ code: ErrorCode.CertExpiresSoon, message }] };
}

/**
 * A certificate whose extended key usage extension leaves out clientAuth is refused by servers
 * during the handshake; without the extension, any use is allowed.
 */
export function checkClientAuth(leaf: X509Certificate): CertificateFinding[] {
  // Node names the extended key usage list keyUsage; undefined when the extension is absent.
  const usages = leaf.keyUsage as string[] | undefined;
  if (!usages || usages.includes(CLIENT_AUTH) || usages.includes(ANY_EXTENDED_KEY_USAGE)) {
    return [];
  }

  return [
    {
      code: ErrorCode.CertNotClientAuth,
      message:
        `The certificate's extended key usage (${usages.map(usageName).join(', ')}) does not ` +
        'include clientAuth, so servers will refuse it for mutual TLS; ask its issuer for a ' +
        'client certificate (extendedKeyUsage=clientAuth)',
    },
  ];
}

function usageName(oid: string): string {
  const names: Record<string, string> = {
    '1.3.6.1.5.5.7.3.1': 'serverAuth',
    '1.3.6.1.5.5.7.3.3': 'codeSigning',
    '1.3.6.1.5.5.7.3.4': 'emailProtection',
    '1.3.6.1.5.5.7.3.8': 'timeStamping',
    '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
  };
  return names[oid] ?? oid;
}
