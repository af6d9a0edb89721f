import type { CertificateMetadata } from '../certificate/bundle';

/** The part of a URL a mapping matches: scheme, host, port and a path prefix. */
export type UrlMatch = {
  scheme: 'https';
  /** Lower-case host name, or `*.example.com` for any one label below example.com. */
  host: string;
  port: number;
  /** Always starts with `/`; `/` matches every path. */
  pathPrefix: string;
};

/** Which pods' egress a mapping applies to; empty labels select every pod of the namespace. */
export type WorkloadSelector = {
  matchLabels: Record<string, string>;
};

/** One Ready mapping as a sidecar needs it. */
export type IndexedMapping = {
  name: string;
  match: UrlMatch;
  selector: WorkloadSelector;
  certificate: {
    name: string;
    /** The KV v2 version of the certificate's secret that this index refers to. */
    vaultVersion: number;
    /**
     * The certificate secret's path below the KV mount: `mtls/<namespace>/certificates/<name>`,
     * or the path of an adopted certificate.
     */
    path: string;
  };
  /** PEM of extra CAs trusted for this upstream, besides the system roots. */
  trustedCaPem?: string;
};

/**
 * The namespace index at `mtls/<namespace>/index`: every Ready mapping and the certificate
 * version it uses. A sidecar learns of any change by reading this one small secret.
 */
export type MappingIndexDocument = {
  namespace: string;
  mappings: IndexedMapping[];
};

/** The data of a certificate's KV v2 secret at `mtls/<namespace>/certificates/<name>`. */
export type StoredCertificate = {
  chainPem: string;
  privateKeyPem: string;
  metadata: CertificateMetadata;
};
