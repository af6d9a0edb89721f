import type { KeyObject, X509Certificate } from 'node:crypto';

import { distinguishedName } from './metadata';

/** A chain put in order: the leaf first, then each certificate's issuer. */
export type OrderedChain = {
  chain: X509Certificate[];
  /** True when the input held the same certificates in another order. */
  reordered: boolean;
  /** Certificates that are not the leaf's issuers: a broken or unrelated chain. */
  unrelated: X509Certificate[];
};

/** Drops repeated certificates (same DER), keeping the first: some exporters repeat the leaf. */
export function distinctCertificates(certificates: X509Certificate[]): X509Certificate[] {
  const seen = new Set<string>();
  return certificates.filter((cert) => {
    if (seen.has(cert.fingerprint256)) return false;
    seen.add(cert.fingerprint256);
    return true;
  });
}

/**
 * Picks the leaf: the certificate the private key belongs to, or, with no key that matches, the
 * one certificate that issued none of the others. Returns whether the key matched.
 */
export function selectLeaf(
  certificates: X509Certificate[],
  privateKey: KeyObject | undefined,
): { leaf: X509Certificate; keyMatches: boolean } {
  const owned = privateKey ? certificates.find((cert) => belongsTo(cert, privateKey)) : undefined;
  if (owned) return { leaf: owned, keyMatches: true };

  const issuesNone = certificates.find(
    (candidate) => !certificates.some((other) => other !== candidate && issuedBy(other, candidate)),
  );
  return { leaf: issuesNone ?? certificates[0], keyMatches: false };
}

/** Orders the certificates from the leaf up, following each certificate's signature. */
export function orderChain(certificates: X509Certificate[], leaf: X509Certificate): OrderedChain {
  const chain = [leaf];
  const remaining = certificates.filter((cert) => cert !== leaf);

  for (;;) {
    const current = chain[chain.length - 1];
    if (issuedBy(current, current)) break;
    const issuerIndex = remaining.findIndex((candidate) => issuedBy(current, candidate));
    if (issuerIndex < 0) break;
    chain.push(...remaining.splice(issuerIndex, 1));
  }

  const reordered = remaining.length === 0 && chain.some((cert, i) => cert !== certificates[i]);
  return { chain, reordered, unrelated: remaining };
}

/** Names a certificate in a message: its subject, most specific part first. */
export function nameOfCertificate(cert: X509Certificate): string {
  return distinguishedName(cert.subject);
}

/** The key pair check, by Node's crypto so that EC keys work the same as RSA. */
export function belongsTo(cert: X509Certificate, privateKey: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(privateKey);
  } catch {
    return false;
  }
}

function issuedBy(subject: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
  } catch {
    return false;
  }
}
