import type { CertificateBundle, CertificateMetadata } from '../../core/certificate/bundle';
import { analyzePem, analyzePkcs12 } from '../../core/certificate/analysis';
import { ErrorCode } from '../../core/errors/codes';
import type { SourceMaterial } from './source-material';

/** Why material is refused, as the Ready condition will say it. */
export type MaterialFailure = {
  reason: 'InvalidCertificate' | 'Expired' | 'NotYetValid';
  message: string;
  /** When a look again may change the verdict (a certificate that becomes valid later). */
  retryAt?: Date;
};

/** The analysis of a source's material, in the terms the reconciler needs. */
export type MaterialVerdict = {
  bundle?: CertificateBundle;
  failure?: MaterialFailure;
  metadata?: CertificateMetadata;
  javaCompatibility?: string;
  /** The certificate is usable and within the expiry warning window. */
  expiresSoon?: boolean;
};

/** Analyses a source's material at `now`: a bundle to store, or the reason it is refused. */
export function analyzeMaterial(material: SourceMaterial, now: Date): MaterialVerdict {
  const analysis =
    material.kind === 'pkcs12'
      ? analyzePkcs12(material.file, material.password, { now })
      : analyzePem(
          {
            certificatePem: material.certificatePem,
            privateKeyPem: material.privateKeyPem,
            caPem: material.caPem,
          },
          { now },
        );
  const javaCompatibility = analysis.javaCompatibility?.summary;

  if (analysis.usable && analysis.bundle) {
    const expiresSoon = analysis.warnings.some((w) => w.code === ErrorCode.CertExpiresSoon);
    return { bundle: analysis.bundle, metadata: analysis.metadata, javaCompatibility, expiresSoon };
  }

  const codes = analysis.problems.map((problem) => problem.code);
  const message = analysis.problems.map((problem) => problem.message).join('; ');
  const notBefore = analysis.metadata ? new Date(analysis.metadata.notBefore) : undefined;
  const reason = codes.includes('CERT_EXPIRED')
    ? 'Expired'
    : codes.includes('CERT_NOT_YET_VALID')
      ? 'NotYetValid'
      : 'InvalidCertificate';
  return {
    failure: { reason, message, retryAt: reason === 'NotYetValid' ? notBefore : undefined },
    metadata: analysis.metadata,
    javaCompatibility,
  };
}
