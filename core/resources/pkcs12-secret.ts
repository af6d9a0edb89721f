import type { MtlsCertificate } from './types';

/** The Secret keys an MtlsCertificate's `pkcs12` source reads when it names none. */
export const PKCS12_FILE_KEY = 'keystore.p12';
export const PKCS12_PASSWORD_KEY = 'password';

/** The label that says which of the project's writers made a Secret. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/** The values of MANAGED_BY_LABEL the project's writers set. */
export const SecretWriter = { gateway: 'mtls-gateway', kubectlPlugin: 'kubectl-mtls' } as const;

/** One of the project's writers of certificate Secrets. */
export type SecretWriter = (typeof SecretWriter)[keyof typeof SecretWriter];

/**
 * The name of the Secret that holds a new certificate's PKCS#12 file and password. kubectl-mtls
 * and the gateway's API make the same one, so that either can update what the other made.
 */
export function pkcs12SecretName(certificateName: string): string {
  return `${certificateName}-p12`;
}

/**
 * The Secret a certificate's PKCS#12 file and password are written to on an update: the one its
 * source names now, else the default one. An update replaces the content of the Secret in use
 * rather than leave it behind beside a new one.
 */
export function pkcs12SecretOf(certificate: Pick<MtlsCertificate, 'metadata' | 'spec'>): string {
  return certificate.spec.source.pkcs12?.secretName ?? pkcs12SecretName(certificate.metadata.name);
}

/** True when one of the project's writers made the Secret, so an update may overwrite it. */
export function isWrittenByProject(secret: { metadata: { labels?: Record<string, string> } }) {
  const writer = secret.metadata.labels?.[MANAGED_BY_LABEL];
  return Object.values<string | undefined>(SecretWriter).includes(writer);
}
