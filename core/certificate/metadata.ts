import type { KeyObject, X509Certificate } from 'node:crypto';

import type { CertificateMetadata } from './bundle';

/** What a public or private key is: algorithm, size in bits, and the curve for EC. */
export type KeyDescription = {
  /** Node's name for the key type: rsa, rsa-pss, ec, dsa, ed25519, ... */
  type: string;
  bits?: number;
  /** NIST name (P-256) when known, otherwise OpenSSL's curve name. */
  curve?: string;
};

const NIST_CURVES: Record<string, { name: string; bits: number }> = {
  prime256v1: { name: 'P-256', bits: 256 },
  secp384r1: { name: 'P-384', bits: 384 },
  secp521r1: { name: 'P-521', bits: 521 },
};

/** Describes a key from what Node's crypto reports about it. */
export function describeKey(key: KeyObject): KeyDescription {
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};

  if (details.namedCurve !== undefined) {
    const nist = NIST_CURVES[details.namedCurve];
    return { type, curve: nist?.name ?? details.namedCurve, bits: nist?.bits };
  }
  return { type, bits: details.modulusLength };
}

/**
 * The metadata shown on status and stored next to the bundle, for a leaf with an RSA or EC key;
 * undefined for other key types, which the checks refuse.
 */
export function describeCertificate(leaf: X509Certificate): CertificateMetadata | undefined {
  const key = describeKey(leaf.publicKey);
  if ((key.type !== 'rsa' && key.type !== 'ec') || key.bits === undefined) return undefined;

  return {
    subject: distinguishedName(leaf.subject),
    issuer: distinguishedName(leaf.issuer),
    serialNumber: leaf.serialNumber.toUpperCase(),
    notBefore: certificateDate(leaf.validFrom).toISOString(),
    notAfter: certificateDate(leaf.validTo).toISOString(),
    keyAlgorithm: key.type === 'rsa' ? 'RSA' : 'EC',
    keySize: key.bits,
    ...(key.curve !== undefined ? { curve: key.curve } : {}),
    fingerprintSha256: leaf.fingerprint256,
  };
}

/**
 * Node prints a name one attribute per line, most general first, with RFC 2253 escaping;
 * RFC 2253 wants them most specific first, separated by commas.
 */
export function distinguishedName(nodeName: string): string {
  return nodeName.split('\n').filter(Boolean).reverse().join(',');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Parses OpenSSL's date form ("Dec  3 16:09:21 2026 GMT") that X509Certificate exposes. */
export function certificateDate(text: string): Date {
  const match = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4}) GMT$/.exec(text);
  const month = match ? MONTHS.indexOf(match[1]) : -1;
  if (!match || month < 0) throw new Error(`unexpected certificate date '${text}'`);

  const [, , day, hours, minutes, seconds, year] = match.map(Number);
  return new Date(Date.UTC(year, month, day, hours, minutes, seconds));
}
