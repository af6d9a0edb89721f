import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import forge from 'node-forge';

import { ErrorCode } from '../errors/codes';
import { assertInputSize, CertificateInputError } from './finding';
import type { CertificateMaterial } from './material';
import { useNativePbkdf2 } from './native-pbkdf2';
import { useNativePkcs12Kdf } from './native-pkcs12-kdf';
import { readPkcs12Algorithms } from './pkcs12-algorithms';

const { asn1, pki, pkcs12 } = forge;
useNativePbkdf2();
useNativePkcs12Kdf();

/**
 * Most key-derivation iterations accepted in one file, all parts together. forge derives keys in
 * JavaScript at about 50,000 iterations a second, on the event loop; exporters use 2,048
 * (openssl) to 10,000 (Java) per part.
 */
export const MAX_PKCS12_ITERATIONS = 300_000;

/**
 * Decodes a PKCS#12 file's DER, refusing what is not one. forge does the decoding because Node's
 * OpenSSL 3 refuses the legacy (RC2-40) files that Java and many partners still produce.
 */
export function decodePkcs12Der(bytes: Buffer): forge.asn1.Asn1 {
  assertInputSize('The PKCS#12 file', bytes.length);

  if (bytes.subarray(0, 64).toString('latin1').includes('-----BEGIN')) {
    throw new CertificateInputError(
      ErrorCode.P12Malformed,
      'The PKCS#12 file is PEM text, not a binary PKCS#12 (PFX) file; ' +
        'give the certificate and key as a PEM pair instead',
    );
  }

  try {
    return asn1.fromDer(forge.util.createBuffer(bytes.toString('binary')), true);
  } catch (err) {
    throw malformed(err);
  }
}

/**
 * Opens a PKCS#12 file with its password and returns every certificate and private key in it.
 * Keys forge cannot do arithmetic on (EC, DSA) are still unwrapped by it and handed to Node's
 * crypto as PKCS#8, so legacy EC files work too.
 */
export function readPkcs12(bytes: Buffer, password: string): CertificateMaterial {
  const der = decodePkcs12Der(bytes);
  assertAffordable(der);

  const pfx = openPfx(der, password);
  const certificates: X509Certificate[] = [];
  const privateKeys: KeyObject[] = [];
  for (const safe of pfx.safeContents) {
    for (const bag of safe.safeBags) {
      if (bag.type === pki.oids.certBag) certificates.push(certificateFromBag(bag));
      if (bag.type === pki.oids.pkcs8ShroudedKeyBag || bag.type === pki.oids.keyBag) {
        privateKeys.push(privateKeyFromBag(bag));
      }
    }
  }
  return { certificates, privateKeys };
}

function assertAffordable(der: forge.asn1.Asn1): void {
  let iterations: number;
  try {
    iterations = readPkcs12Algorithms(der).derivationIterations;
  } catch {
    // An unexpected structure: forge's own reading will say what is wrong with it.
    return;
  }

  if (iterations > MAX_PKCS12_ITERATIONS) {
    throw new CertificateInputError(
      ErrorCode.P12TooManyIterations,
      `The PKCS#12 file asks for ${iterations} key-derivation iterations, more than the ` +
        `${MAX_PKCS12_ITERATIONS} accepted; export it again with the default iteration count`,
    );
  }
}

/**
 * Opens the PFX. forge hands the password to PBKDF2 as one byte per character where openssl
 * gives it the UTF-8 bytes, so a non-ASCII password that passed the MAC check (which forge
 * derives correctly) is tried again in UTF-8, with the already verified MAC set aside.
 */
function openPfx(der: forge.asn1.Asn1, password: string): forge.pkcs12.Pkcs12Pfx {
  try {
    return pkcs12.pkcs12FromAsn1(der, true, password);
  } catch (err) {
    const utf8 = forge.util.encodeUtf8(password);
    if (MAC_FAILURE.test(reasonOf(err)) || utf8 === password) throw classify(err, hasMac(der));

    try {
      const withoutMac = { ...der, value: (der.value as forge.asn1.Asn1[]).slice(0, 2) };
      return pkcs12.pkcs12FromAsn1(withoutMac, true, utf8);
    } catch (retryErr) {
      throw classify(retryErr, hasMac(der));
    }
  }
}

const MAC_FAILURE = /MAC could not be verified/;
const DECRYPT_FAILURE = /decrypt/i;
const UNSUPPORTED = /unsupported/i;

// The optional macData follows authSafe in the PFX sequence.
function hasMac(der: forge.asn1.Asn1): boolean {
  return (der.value as forge.asn1.Asn1[]).length > 2;
}

/**
 * Names why forge could not open the file: wrong password, unknown algorithm, or damage. The
 * outer structure was already decoded, so in a file without a MAC whatever fails after
 * decryption is the password (a wrong key passes the padding check about once in 256 tries and
 * yields bytes that do not parse), or damage that no check can tell from it.
 */
function classify(err: unknown, withMac: boolean): CertificateInputError {
  const reason = reasonOf(err);
  if (MAC_FAILURE.test(reason) || DECRYPT_FAILURE.test(reason)) return badPassword(err);
  if (!withMac && !UNSUPPORTED.test(reason)) return badPassword(err);
  if (UNSUPPORTED.test(reason)) {
    return new CertificateInputError(
      ErrorCode.P12UnsupportedAlgorithm,
      `The PKCS#12 file uses an algorithm this system cannot read (${reason}). Export it ` +
        'again with openssl pkcs12 -export (AES-256-CBC) or with -legacy for older Java',
      { cause: err },
    );
  }
  return malformed(err);
}

function certificateFromBag(bag: forge.pkcs12.Bag): X509Certificate {
  // forge parses RSA certificates only; for others it keeps the ASN.1, which we prefer anyway.
  const certAsn1 = bag.asn1 ?? (bag.cert ? pki.certificateToAsn1(bag.cert) : undefined);
  if (!certAsn1) throw malformed(new Error('a certificate bag holds no certificate'));

  try {
    return new X509Certificate(Buffer.from(asn1.toDer(certAsn1).getBytes(), 'binary'));
  } catch (err) {
    throw malformed(err);
  }
}

function privateKeyFromBag(bag: forge.pkcs12.Bag): KeyObject {
  // bag.key is set for RSA only; other key types come as the decrypted PrivateKeyInfo.
  const keyInfo =
    bag.asn1 ?? (bag.key ? pki.wrapRsaPrivateKey(pki.privateKeyToAsn1(bag.key)) : undefined);
  if (!keyInfo) throw malformed(new Error('a key bag holds no key'));

  const der = Buffer.from(asn1.toDer(keyInfo).getBytes(), 'binary');
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new CertificateInputError(
      ErrorCode.KeyUnsupported,
      'The private key in the PKCS#12 file is of a type this system cannot read; ' +
        'use an RSA (2048 bits or more) or EC (P-256, P-384, P-521) key',
      { cause: err },
    );
  }
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function badPassword(cause: unknown): CertificateInputError {
  return new CertificateInputError(
    ErrorCode.P12BadPassword,
    'The PKCS#12 password is wrong: the file fails its integrity check or decryption with it. ' +
      'Check the password you were given (and that the Secret holds it without a trailing ' +
      'newline); if the password is right, the file was altered after export',
    { cause },
  );
}

function malformed(cause: unknown): CertificateInputError {
  const reason = reasonOf(cause);
  return new CertificateInputError(
    ErrorCode.P12Malformed,
    `The file is not a readable PKCS#12 (PFX) file, or it is truncated or corrupted (${reason}). ` +
      'Export it again, e.g. with openssl pkcs12 -export, and upload the binary file unchanged',
    { cause },
  );
}
