/** What the analysis learns about a client certificate; safe to show on status and in logs. */
export type CertificateMetadata = {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  keyAlgorithm: 'RSA' | 'EC';
  /** RSA modulus bits, or the EC curve's size in bits. */
  keySize: number;
  /** EC curve name (P-256, P-384, P-521); absent for RSA. */
  curve?: string;
  /** SHA-256 over the leaf certificate's DER, upper-case hex pairs joined by colons. */
  fingerprintSha256: string;
};

/**
 * A client certificate normalized from whatever its source was: the chain (leaf first) and the
 * PKCS#8 private key in PEM. This is what Vault holds and what the sidecar loads; nothing at
 * runtime reads a PKCS#12 file.
 */
export type CertificateBundle = {
  chainPem: string;
  privateKeyPem: string;
  metadata: CertificateMetadata;
};
