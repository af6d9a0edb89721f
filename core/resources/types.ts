/** The custom resources of group mtls.io, as the operator reads and writes them. */

export const GROUP = 'mtls.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
/** The finalizer that keeps an MtlsCertificate until its Vault copy is removed. */
export const CERTIFICATE_FINALIZER = 'mtls.io/vault-cleanup';

/** A metav1.Condition. */
export type Condition = {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
};

/** The fields of metadata the operator uses. */
export type ObjectMeta = {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};

/** Where an MtlsCertificate's material comes from: exactly one field is set. */
export type CertificateSource = {
  pkcs12?: { secretName: string; fileKey?: string; passwordKey?: string };
  pem?: { secretName: string };
  vault?: { path: string };
};

/** spec of an MtlsCertificate. */
export type MtlsCertificateSpec = {
  source: CertificateSource;
  trustedCA?: { configMapName: string; key?: string };
  retainPolicy?: 'Delete' | 'Retain';
};

/** status of an MtlsCertificate: what was found and stored, never key material. */
export type MtlsCertificateStatus = {
  observedGeneration?: number;
  conditions?: Condition[];
  subject?: string;
  issuer?: string;
  serialNumber?: string;
  notBefore?: string;
  notAfter?: string;
  keyAlgorithm?: string;
  keySize?: number;
  fingerprintSha256?: string;
  javaCompatibility?: string;
  vaultPath?: string;
  vaultVersion?: number;
  /** The analysis codes (docs/errors.md) of every problem found in a refused source. */
  problems?: string[];
};

/** An MtlsCertificate object. */
export type MtlsCertificate = {
  apiVersion: string;
  kind: 'MtlsCertificate';
  metadata: ObjectMeta;
  spec: MtlsCertificateSpec;
  status?: MtlsCertificateStatus;
};

/** spec of an MtlsMapping. */
export type MtlsMappingSpec = {
  url: string;
  certificateName: string;
  workloadSelector?: { matchLabels?: Record<string, string> };
  enabled?: boolean;
  liveValidation?: boolean;
};

/** status of an MtlsMapping. */
export type MtlsMappingStatus = {
  observedGeneration?: number;
  conditions?: Condition[];
  match?: { scheme: string; host: string; port: number; pathPrefix: string };
  certificateVersion?: number;
};

/** An MtlsMapping object. */
export type MtlsMapping = {
  apiVersion: string;
  kind: 'MtlsMapping';
  metadata: ObjectMeta;
  spec: MtlsMappingSpec;
  status?: MtlsMappingStatus;
};

/** The plural resource names, as the API paths use them. */
export const PLURAL = { MtlsCertificate: 'mtlscertificates', MtlsMapping: 'mtlsmappings' } as const;
