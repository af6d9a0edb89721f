import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import forge from 'node-forge';

import { ErrorCode } from '../errors/codes';
import { assertInputSize, CertificateInputError } from './finding';
import type { CertificateMaterial } from './material';

const { asn1, pki, pkcs12 } = forge;

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

  let pfx: forge.pkcs12.Pkcs12Pfx;
  try {
    pfx = pkcs12.pkcs12FromAsn1(der, true, password);
  } catch (err) {
    throw isPasswordFailure(err) ? badPassword(err) : malformed(err);
  }

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

function isPasswordFailure(err: unknown): boolean {
  const message = err instanceof Error ? err.message : '';
  return /MAC could not be verified|wrong password/i.test(message);
}

function badPassword(cause: unknown): CertificateInputError {
  return new CertificateInputError(
    ErrorCode.P12BadPassword,
    'The PKCS#12 password is wrong: the file failed its integrity check with it. ' +
      'Check the password you were given (and that the Secret holds it without a trailing ' +
      'newline); if the password is right, the file was altered after export',
    { cause },
  );
}

function malformed(cause: unknown): CertificateInputError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new CertificateInputError(
    ErrorCode.P12Malformed,
    `The file is not a readable PKCS#12 (PFX) file, or it is truncated or corrupted (${reason}). ` +
      'Export it again, e.g. with openssl pkcs12 -export, and upload the binary file unchanged',
    { cause },
  );
}
