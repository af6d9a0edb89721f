import type { KeyObject, X509Certificate } from 'node:crypto';

/**
 * The certificates and private keys found in one input, before any check: a PKCS#12 file and a
 * PEM pair both come down to this, so the checks do not care where they came from.
 */
export type CertificateMaterial = {
  /** In the order the input held them. */
  certificates: X509Certificate[];
  privateKeys: KeyObject[];
};
