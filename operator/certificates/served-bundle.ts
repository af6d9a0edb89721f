import type { VaultKv } from '../../core/vault/kv-client';
import { reachesOtherNamespace } from '../../core/vault/paths';
import type { MtlsCertificate, MtlsCertificateStatus } from '../../core/resources/types';

/** The fields of status that describe the certificate itself. */
export type CertificateDetails = Pick<
  MtlsCertificateStatus,
  | 'subject'
  | 'issuer'
  | 'serialNumber'
  | 'notBefore'
  | 'notAfter'
  | 'keyAlgorithm'
  | 'keySize'
  | 'fingerprintSha256'
  | 'javaCompatibility'
>;

/** The bundle the mappings of a certificate point the sidecars at: a Vault version. */
export type ServedBundle = {
  vaultPath: string;
  vaultVersion: number;
  details: CertificateDetails;
};

/**
 * The bundle a certificate's status says is served, while it has not expired at `now`. The
 * status is the record of the last version the operator checked and stored (or adopted).
 */
export function servedOnStatus(certificate: MtlsCertificate, now: Date): ServedBundle | undefined {
  const status = certificate.status;
  if (!status?.vaultPath || status.vaultVersion === undefined || !status.notAfter) return undefined;
  if (new Date(status.notAfter).getTime() <= now.getTime()) return undefined;
  // A status written before adopted paths were confined names no other namespace's key either.
  if (reachesOtherNamespace(status.vaultPath, certificate.metadata.namespace)) return undefined;

  const { vaultPath, vaultVersion, subject, issuer, serialNumber, notBefore, notAfter } = status;
  const { keyAlgorithm, keySize, fingerprintSha256, javaCompatibility } = status;
  return {
    vaultPath,
    vaultVersion,
    details: {
      subject,
      issuer,
      serialNumber,
      notBefore,
      notAfter,
      keyAlgorithm,
      keySize,
      fingerprintSha256,
      javaCompatibility,
    },
  };
}

/**
 * The last good bundle of a certificate whose current source is refused: the one its status
 * names, as long as it has not expired and Vault still holds that version. Sidecars go on using
 * it, so a broken rotation does not take a working certificate away from live traffic.
 */
export async function findLastGood(
  vault: VaultKv,
  certificate: MtlsCertificate,
  now: Date,
): Promise<ServedBundle | undefined> {
  const served = servedOnStatus(certificate, now);
  if (!served) return undefined;

  const stored = await vault.read(served.vaultPath, served.vaultVersion);
  return stored ? served : undefined;
}
