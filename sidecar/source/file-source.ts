import { createHash } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import path from 'node:path';

import yaml from 'js-yaml';

import { ErrorCode } from '../../core/errors/codes';
import type { Logger } from '../../core/log/logger';
import type { IndexedMapping } from '../../core/mapping/index-document';
import {
  leafNotAfterSeconds,
  type CertificateSnapshot,
  type CertificateSource,
  type LoadedCertificate,
} from './certificate-source';
import {
  entryFiles,
  fileError,
  loadCertificateEntry,
  readCertificateEntries,
} from './file-certificates';
import { checkCaBundle } from './ca-bundle';
import { readIndexedMapping, SourceDataError } from './mapping-index-reader';
import { Pkcs12Analyses, type Pkcs12Analyser } from './pkcs12-analyses';
import { SnapshotListeners } from './snapshot-listeners';

const TOP_LEVEL_KEYS = ['certificates', 'mappings'];

/** Options of the standalone file source. */
export type FileSourceOptions = {
  file: string;
  namespace: string;
  log: Logger;
  /** How often the file and the PEM files it names are polled for changes. */
  pollIntervalMs?: number;
  /** Opens a PKCS#12 file; the shared certificate analysis when absent (tests count calls). */
  analysePkcs12?: Pkcs12Analyser;
};

/**
 * Standalone mode: certificates and mappings from a YAML file instead of Vault.
 *
 *     certificates:
 *       - { name: partner, certFile: partner.crt, keyFile: partner.key }
 *       - { name: billing, p12File: billing.p12, passwordFile: billing.password }
 *     mappings:
 *       - name: partner-api
 *         match: { host: api.partner.example, port: 443, pathPrefix: / }
 *         selector: { matchLabels: { app: shop } }
 *         certificate: { name: partner }
 *         trustedCaFile: partner-ca.crt
 *
 * Relative paths are read from the file's folder. The file and every file it names are polled;
 * any change reloads the whole file (a PKCS#12 file whose bytes and password are unchanged is
 * not opened again). A certificate's version grows when its PEM changes.
 */
export class FileCertificateSource implements CertificateSource {
  private snapshot: CertificateSnapshot | undefined;
  private readonly listeners = new SnapshotListeners();
  private readonly versions = new Map<string, { digest: string; version: number }>();
  private readonly pkcs12: Pkcs12Analyses;
  private watched = new Set<string>();
  private stopped = false;

  constructor(private readonly options: FileSourceOptions) {
    this.pkcs12 = new Pkcs12Analyses(options.analysePkcs12);
  }

  async start(): Promise<void> {
    this.reloadWatching();
  }

  current(): CertificateSnapshot | undefined {
    return this.snapshot;
  }

  onChange(listener: (snapshot: CertificateSnapshot) => void): () => void {
    return this.listeners.add(listener);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const file of this.watched) unwatchFile(file);
    this.watched.clear();
  }

  /**
   * Reloads, and watches every file the attempt named even when it fails: fixing a wrong
   * password file, at start or later, is then noticed without touching the YAML.
   */
  private reloadWatching(): void {
    const files: string[] = [];
    try {
      this.reload(files);
    } catch (err) {
      this.watch([...this.watched, ...files]);
      throw err;
    }
    this.watch(files);
  }

  private reload(files: string[]): void {
    const { file, namespace } = this.options;
    const folder = path.dirname(file);
    const resolve = (name: string): string => path.resolve(folder, name);

    files.push(file);
    const document = yaml.load(readFileSync(file, 'utf8')) as Record<string, unknown> | null;
    if (!document || typeof document !== 'object') throw fileError(file, 'expected a YAML map');
    // A misspelt key (mapings:) would otherwise leave the file without mappings, unnoticed.
    const unknown = Object.keys(document).filter((key) => !TOP_LEVEL_KEYS.includes(key));
    if (unknown.length > 0) {
      throw fileError(
        file,
        `unknown key ${unknown.join(', ')}; expected ${TOP_LEVEL_KEYS.join(' and ')}`,
      );
    }
    const declared = readCertificateEntries(file, document.certificates);

    const certificates = new Map<string, LoadedCertificate>();
    for (const entry of declared) {
      files.push(...entryFiles(entry).map(resolve));
      const pems = loadCertificateEntry(file, entry, resolve, this.pkcs12);
      certificates.set(entry.name, {
        ...pems,
        version: this.versionOf(entry.name, pems.chainPem + pems.privateKeyPem),
        notAfterSeconds: leafNotAfterSeconds(pems.chainPem),
      });
    }

    const rawMappings = document.mappings ?? [];
    if (!Array.isArray(rawMappings)) throw fileError(file, 'mappings: expected a list');
    const mappings: IndexedMapping[] = rawMappings.map((raw, i) => {
      const entry = { ...(raw as Record<string, unknown>) };
      if (typeof entry.trustedCaFile === 'string') {
        const caFile = resolve(entry.trustedCaFile);
        files.push(caFile);
        entry.trustedCaPem = readFileSync(caFile, 'utf8');
        try {
          checkCaBundle(entry.trustedCaPem as string);
        } catch (err) {
          throw fileError(file, `mappings[${i}].trustedCaFile ${caFile} ${(err as Error).message}`);
        }
      }
      const versionOf = (name: string): number => {
        const certificate = certificates.get(name);
        if (!certificate) throw fileError(file, `mappings[${i}] names unknown certificate ${name}`);
        return certificate.version;
      };
      // The file names its certificates directly; the path only says where they came from.
      try {
        return readIndexedMapping(`${file}: mappings[${i}]`, entry, versionOf, () => file);
      } catch (err) {
        // The reader's checks are shared with Vault's index; here the file is what is wrong.
        if (!(err instanceof SourceDataError) || err.code !== ErrorCode.VaultDataInvalid) throw err;
        throw new SourceDataError(err.message, ErrorCode.SidecarConfigFileInvalid);
      }
    });

    this.pkcs12.keepOnly(new Set(certificates.keys()));
    this.snapshot = { namespace, mappings, certificates, syncedAt: Date.now() };
    for (const err of this.listeners.publish(this.snapshot)) {
      this.options.log.error('snapshot listener failed', { err });
    }
  }

  private versionOf(name: string, material: string): number {
    const digest = createHash('sha256').update(material).digest('hex');
    const known = this.versions.get(name);
    if (known?.digest === digest) return known.version;
    const version = (known?.version ?? 0) + 1;
    this.versions.set(name, { digest, version });
    return version;
  }

  private watch(files: string[]): void {
    if (this.stopped) return;
    const wanted = new Set(files);
    for (const file of this.watched) if (!wanted.has(file)) unwatchFile(file);
    const interval = this.options.pollIntervalMs ?? 2000;
    for (const file of wanted) {
      if (this.watched.has(file)) continue;
      watchFile(file, { interval, persistent: false }, () => this.reloadKeepingLastGood());
    }
    this.watched = wanted;
  }

  private reloadKeepingLastGood(): void {
    if (this.stopped) return;
    try {
      this.reloadWatching();
      this.options.log.info('certificate file reloaded', { file: this.options.file });
    } catch (err) {
      // A half-written file must not take certificates away: keep serving the last snapshot.
      this.options.log.warn('certificate file invalid, keeping the last good one', {
        file: this.options.file,
        err,
      });
    }
  }
}
