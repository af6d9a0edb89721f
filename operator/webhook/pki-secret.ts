import type { WebhookPki } from './pki-plan';
import { splitPem } from './webhook-pki';

/** The Secret that keeps the webhook's certificates, as far as the webhook reads it. */
export type PkiSecret = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
  };
  type?: string;
  data?: Record<string, string>;
};

/** The Secret's keys: the CA bundle (signing CA first) and key, the serving pair. */
export const PkiSecretKeys = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  cert: 'tls.crt',
  key: 'tls.key',
} as const;

/** The certificates a Secret holds, or undefined when a key is missing. */
export function pkiFromSecret(secret: PkiSecret | undefined): WebhookPki | undefined {
  const data = secret?.data ?? {};
  const text = (key: string) =>
    data[key] === undefined ? undefined : Buffer.from(data[key], 'base64').toString('utf8');
  const caBundle = text(PkiSecretKeys.caCert);
  const caKeyPem = text(PkiSecretKeys.caKey);
  const servingCertPem = text(PkiSecretKeys.cert);
  const servingKeyPem = text(PkiSecretKeys.key);
  if (!caBundle || !caKeyPem || !servingCertPem || !servingKeyPem) return undefined;
  return { caCertsPem: splitPem(caBundle), caKeyPem, servingCertPem, servingKeyPem };
}

/** The Secret data of the certificates, base64 as the API wants it. */
export function pkiSecretData(pki: WebhookPki): Record<string, string> {
  const base64 = (text: string) => Buffer.from(text).toString('base64');
  return {
    [PkiSecretKeys.caCert]: base64(caBundlePem(pki)),
    [PkiSecretKeys.caKey]: base64(pki.caKeyPem),
    [PkiSecretKeys.cert]: base64(pki.servingCertPem),
    [PkiSecretKeys.key]: base64(pki.servingKeyPem),
  };
}

/** The PEM bundle the webhook configuration's caBundle carries: every CA still trusted. */
export function caBundlePem(pki: WebhookPki): string {
  return pki.caCertsPem.join('');
}

/** True when two PEM texts hold the same certificates in the same order. */
export function samePem(a: string, b: string): boolean {
  const blocks = (text: string) => splitPem(text).map((block) => block.replace(/\s+/g, ''));
  return blocks(a).join('|') === blocks(b).join('|');
}
