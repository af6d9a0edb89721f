import { X509Certificate } from 'node:crypto';

import type { IndexedMapping } from '../../core/mapping/index-document';

/** A client certificate as the proxy loads it: PEM chain (leaf first), PKCS#8 key, version. */
export type LoadedCertificate = {
  chainPem: string;
  privateKeyPem: string;
  /** Changes whenever the material changes; part of the connection pool's key. */
  version: number;
  /** When the leaf certificate expires, in seconds since the epoch, if known. */
  notAfterSeconds?: number;
};

/** Everything the proxy needs at one moment: the mappings and the certificates they name. */
export type CertificateSnapshot = {
  namespace: string;
  mappings: IndexedMapping[];
  certificates: ReadonlyMap<string, LoadedCertificate>;
  /** When the source last confirmed this snapshot, in milliseconds since the epoch. */
  syncedAt: number;
};

/**
 * Where certificates and mappings come from (Vault, or a local file in standalone mode).
 * A source keeps serving its last good snapshot when its backend fails.
 */
export interface CertificateSource {
  /** Loads the first snapshot and starts watching for changes. */
  start(): Promise<void>;
  /** The last good snapshot, or undefined before the first one loaded. */
  current(): CertificateSnapshot | undefined;
  /** Calls the listener with every new snapshot; returns a function that unsubscribes. */
  onChange(listener: (snapshot: CertificateSnapshot) => void): () => void;
  /** Stops watching; the last snapshot stays readable. */
  stop(): Promise<void>;
}

/** Reads the expiry of a PEM chain's leaf, or undefined when it cannot be parsed. */
export function leafNotAfterSeconds(chainPem: string): number | undefined {
  try {
    return Math.floor(Date.parse(new X509Certificate(chainPem).validTo) / 1000);
  } catch {
    return undefined;
  }
}
