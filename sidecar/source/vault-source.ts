import type { Logger } from '../../core/log/logger';
import type { MappingIndexDocument } from '../../core/mapping/index-document';
import { indexVaultPath } from '../../core/vault/paths';
import {
  leafNotAfterSeconds,
  type CertificateSnapshot,
  type CertificateSource,
  type LoadedCertificate,
} from './certificate-source';
import { readCertificatePems, readMappingIndex, SourceDataError } from './mapping-index-reader';
import { nextSyncDelayMs } from './retry-delay';
import { SnapshotListeners } from './snapshot-listeners';
import { VaultSession } from './vault-session';

/** Options of the Vault certificate source. */
export type VaultSourceOptions = {
  address: string;
  kvMount: string;
  authMount: string;
  role: string;
  /** A static token for local runs; the Kubernetes login is used when absent. */
  staticToken?: string;
  /** The ServiceAccount token file, read again at every login (projected tokens rotate). */
  tokenFile: string;
  namespace: string;
  refreshIntervalMs: number;
  checkIntervalMs: number;
  requestTimeoutMs: number;
  log: Logger;
  /** Called for every failed sync, for the error counter. */
  onError?: (err: unknown) => void;
  /** A Vault session shared with other sources (the gateway's); one of its own when absent. */
  session?: VaultSession;
};

/**
 * Certificates and mappings from Vault KV v2. Every check reads the namespace index; only
 * certificates whose version changed are read again, and every certificate is re-read at the
 * full refresh interval. On any failure the last good snapshot stays in use, and the next try
 * backs off, never past the check interval. Key material lives only in memory.
 */
export class VaultCertificateSource implements CertificateSource {
  private readonly session: VaultSession;
  private readonly listeners = new SnapshotListeners();
  private snapshot: CertificateSnapshot | undefined;
  private index: { version: number; createdTime?: string } | undefined;
  private lastFullAt = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: VaultSourceOptions) {
    this.session =
      options.session ??
      new VaultSession({ ...options, log: options.log.child({ namespace: options.namespace }) });
  }

  async start(): Promise<void> {
    try {
      await this.sync(true);
    } finally {
      this.schedule();
    }
  }

  current(): CertificateSnapshot | undefined {
    return this.snapshot;
  }

  onChange(listener: (snapshot: CertificateSnapshot) => void): () => void {
    return this.listeners.add(listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    const delay = nextSyncDelayMs(this.failures, this.options.checkIntervalMs);
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.sync(Date.now() - this.lastFullAt >= this.options.refreshIntervalMs);
    } catch {
      // sync has logged and counted it; the schedule below backs off.
    }
    this.schedule();
  }

  private async sync(full: boolean): Promise<void> {
    try {
      await this.syncOnce(full);
      this.failures = 0;
    } catch (err) {
      this.failures++;
      this.options.onError?.(err);
      this.options.log.warn('vault sync failed, keeping the last good certificates', {
        namespace: this.options.namespace,
        failures: this.failures,
        err,
      });
      throw err;
    }
  }

  private async syncOnce(full: boolean): Promise<void> {
    const { kvMount, namespace } = this.options;
    const index = await this.session.withToken((token) =>
      this.session.client.readKv(token, kvMount, indexVaultPath(namespace)),
    );
    const now = Date.now();
    const version = index?.version ?? 0;
    const known = this.index;

    const unchanged = known?.version === version && known.createdTime === index?.createdTime;
    if (!full && this.snapshot && unchanged) {
      this.snapshot = { ...this.snapshot, syncedAt: now };
      return;
    }

    // A version number that did not grow means Vault's history was replaced (a restore, a
    // rebuilt dev server): certificate versions no longer name what was cached, so read them all.
    const rewound = known !== undefined && version <= known.version;
    full ||= rewound;

    // No index yet means the operator has not written any mapping for this namespace.
    const document: MappingIndexDocument = index
      ? readMappingIndex(index.data, namespace, this.options.log)
      : { namespace, mappings: [] };
    const certificates = await this.loadCertificates(document, full);

    this.snapshot = { namespace, mappings: document.mappings, certificates, syncedAt: now };
    this.index = { version, createdTime: index?.createdTime };
    if (full) this.lastFullAt = now;
    for (const err of this.listeners.publish(this.snapshot)) {
      this.options.log.error('snapshot listener failed', { err });
    }
  }

  private async loadCertificates(
    document: MappingIndexDocument,
    full: boolean,
  ): Promise<Map<string, LoadedCertificate>> {
    const wanted = new Map<string, { version: number; path: string }>();
    for (const { certificate } of document.mappings) {
      wanted.set(certificate.name, { version: certificate.vaultVersion, path: certificate.path });
    }

    const loaded = new Map<string, LoadedCertificate>();
    for (const [name, { version, path }] of wanted) {
      const known = this.snapshot?.certificates.get(name);
      if (!full && known?.version === version) {
        loaded.set(name, known);
        continue;
      }
      const certificate = await this.readCertificate(name, path, version);
      if (certificate) loaded.set(name, certificate);
    }
    return loaded;
  }

  private async readCertificate(
    name: string,
    path: string,
    version: number,
  ): Promise<LoadedCertificate | undefined> {
    const { kvMount, namespace, log } = this.options;
    const secret = await this.session.withToken((token) =>
      this.session.client.readKv(token, kvMount, path, version),
    );

    // One bad certificate leaves its mappings unserved; it must not block every other one.
    try {
      if (!secret) throw new SourceDataError(`${path} version ${version} does not exist`);
      const pems = readCertificatePems(`${path} version ${version}`, secret.data);
      return { ...pems, version, notAfterSeconds: leafNotAfterSeconds(pems.chainPem) };
    } catch (err) {
      if (!(err instanceof SourceDataError)) throw err;
      this.options.onError?.(err);
      log.error('certificate in vault unusable', { namespace, name, vaultVersion: version, err });
      return undefined;
    }
  }
}
