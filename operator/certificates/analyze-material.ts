import type { CertificateBundle, CertificateMetadata } from '../../core/certificate/bundle';
import { analyzePem, analyzePkcs12 } from '../../core/certificate/analysis';
import { ErrorCode } from '../../core/errors/codes';
import type { SourceMaterial } from './source-material';

// The Ready reason of each analysis problem, so that `kubectl get` tells a wrong password from a
// weak key without reading the message.
const REASONS: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.InputTooLarge]: 'TooLarge',
  [ErrorCode.P12Malformed]: 'MalformedPkcs12',
  [ErrorCode.P12BadPassword]: 'WrongPassword',
  [ErrorCode.P12UnsupportedAlgorithm]: 'UnsupportedPkcs12',
  [ErrorCode.P12TooManyIterations]: 'UnsupportedPkcs12',
  [ErrorCode.PemMalformed]: 'MalformedPem',
  [ErrorCode.CertMissing]: 'CertificateMissing',
  [ErrorCode.KeyMissing]: 'KeyMissing',
  [ErrorCode.KeyMultiple]: 'MultipleKeys',
  [ErrorCode.CertKeyMismatch]: 'KeyMismatch',
  [ErrorCode.KeyTooWeak]: 'WeakKey',
  [ErrorCode.KeyUnsupported]: 'UnsupportedKey',
  [ErrorCode.CertExpired]: 'Expired',
  [ErrorCode.CertNotYetValid]: 'NotYetValid',
  [ErrorCode.CertNotClientAuth]: 'NotClientAuth',
  [ErrorCode.ChainInvalid]: 'InvalidChain',
};

/** Why material is refused, as the Ready condition will say it. */
export type MaterialFailure = {
  reason: string;
  message: string;
  /** The analysis codes of every problem found (docs/errors.md), for status.problems. */
  problems?: ErrorCode[];
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
  // Time comes first: the gateway reports an Expired certificate as such, and a certificate not
  // valid yet is looked at again at its notBefore.
  const reason = codes.includes(ErrorCode.CertExpired)
    ? 'Expired'
    : codes.includes(ErrorCode.CertNotYetValid)
      ? 'NotYetValid'
      : (REASONS[codes[0]] ?? 'InvalidCertificate');
  return {
    failure: {
      reason,
      message,
      problems: codes,
      retryAt: reason === 'NotYetValid' ? notBefore : undefined,
    },
    metadata: analysis.metadata,
    javaCompatibility,
  };
}
