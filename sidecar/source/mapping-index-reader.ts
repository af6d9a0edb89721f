import { createSecureContext } from 'node:tls';

import { ErrorCode, MtlsError } from '../../core/errors/codes';
import type { Logger } from '../../core/log/logger';
import type {
  IndexedMapping,
  MappingIndexDocument,
  WorkloadSelector,
} from '../../core/mapping/index-document';
import { certificateVaultPath, reachesOtherNamespace } from '../../core/vault/paths';

/** Thrown when an index or certificate read from a source does not have the expected shape. */
export class SourceDataError extends MtlsError {
  constructor(message: string, code: ErrorCode = ErrorCode.VaultDataInvalid) {
    super(code, message);
    this.name = 'SourceDataError';
  }
}

function fail(where: string, what: string): never {
  throw new SourceDataError(`${where}: ${what}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readString(where: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') fail(where, 'expected a non-empty string');
  return value;
}

function readLabels(where: string, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) fail(where, 'expected a map of label names to values');
  const labels: Record<string, string> = {};
  for (const [key, label] of Object.entries(value))
    labels[key] = readString(`${where}.${key}`, label);
  return labels;
}

/**
 * Checks a mapping's selector. Only an absent selector means every pod: one that is not a map,
 * or that has a key besides matchLabels (`app: shop` written without matchLabels), is refused
 * rather than read as "no labels", which would hand the certificate to every workload.
 */
function readSelector(where: string, value: unknown): WorkloadSelector {
  if (value === undefined || value === null) return { matchLabels: {} };
  if (!isRecord(value)) fail(where, 'expected a map such as { matchLabels: { app: shop } }');
  const unknown = Object.keys(value).filter((key) => key !== 'matchLabels');
  if (unknown.length > 0) {
    fail(where, `unknown key ${unknown.join(', ')}; labels go under matchLabels`);
  }
  return { matchLabels: readLabels(`${where}.matchLabels`, value.matchLabels) };
}

/**
 * Checks one mapping as stored in an index (or a standalone file). The certificate version may
 * be absent when `defaultVersion` is given, as in the file format where the file carries it.
 */
export function readIndexedMapping(
  where: string,
  value: unknown,
  defaultVersion?: (certificateName: string) => number,
  defaultPath?: (certificateName: string) => string,
): IndexedMapping {
  if (!isRecord(value)) fail(where, 'expected a mapping object');
  const name = readString(`${where}.name`, value.name);
  const match = isRecord(value.match) ? value.match : fail(`${where}.match`, 'expected an object');
  const certificate = isRecord(value.certificate)
    ? value.certificate
    : fail(`${where}.certificate`, 'expected an object');

  const scheme = match.scheme ?? 'https';
  if (scheme !== 'https') fail(`${where}.match.scheme`, "only 'https' is supported");
  const port = match.port ?? 443;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    fail(`${where}.match.port`, 'expected a port from 1 to 65535');
  }
  const pathPrefix = match.pathPrefix ?? '/';
  if (typeof pathPrefix !== 'string' || !pathPrefix.startsWith('/')) {
    fail(`${where}.match.pathPrefix`, "expected a path starting with '/'");
  }

  const certificateName = readString(`${where}.certificate.name`, certificate.name);
  const version = certificate.vaultVersion ?? defaultVersion?.(certificateName);
  if (typeof version !== 'number' || !Number.isInteger(version)) {
    fail(`${where}.certificate.vaultVersion`, 'expected a whole number');
  }
  const path = certificate.path ?? defaultPath?.(certificateName);
  if (typeof path !== 'string' || path === '') {
    fail(`${where}.certificate.path`, 'expected the path of the certificate below the KV mount');
  }
  const selector = readSelector(`${where}.selector`, value.selector);
  const trustedCaPem = value.trustedCaPem;
  if (trustedCaPem !== undefined && typeof trustedCaPem !== 'string') {
    fail(`${where}.trustedCaPem`, 'expected PEM text');
  }

  return {
    name,
    match: {
      scheme: 'https',
      // IPv6 hosts come bracketed from URL parsing; the proxy compares them bare.
      host: readString(`${where}.match.host`, match.host)
        .toLowerCase()
        .replace(/^\[(.*)\]$/, '$1'),
      port,
      pathPrefix,
    },
    selector,
    certificate: { name: certificateName, vaultVersion: version, path },
    ...(trustedCaPem ? { trustedCaPem } : {}),
  };
}

/**
 * Checks the data of a namespace index read from Vault. A mapping whose certificate path lies in
 * another namespace's part of the operator's tree is left out, with a warning: whoever could
 * write such an index must not get that namespace's private key used for this one's traffic.
 */
export function readMappingIndex(
  data: unknown,
  namespace: string,
  log: Pick<Logger, 'warn'>,
): MappingIndexDocument {
  if (!isRecord(data)) fail('index', 'expected an object with namespace and mappings');
  if (data.namespace !== undefined && data.namespace !== namespace) {
    fail('index.namespace', `expected '${namespace}', got '${String(data.namespace)}'`);
  }
  const entries = data.mappings ?? [];
  if (!Array.isArray(entries)) fail('index.mappings', 'expected a list');

  const mappings = entries.map((mapping, i) =>
    readIndexedMapping(`index.mappings[${i}]`, mapping, undefined, (name) =>
      certificateVaultPath(namespace, name),
    ),
  );
  return {
    namespace,
    mappings: mappings.filter((mapping) => {
      const vaultPath = mapping.certificate.path;
      if (!reachesOtherNamespace(vaultPath, namespace)) return true;
      log.warn('index mapping ignored: its certificate belongs to another namespace', {
        namespace,
        name: mapping.name,
        vaultPath,
      });
      return false;
    }),
  };
}

/** Checks the PEM fields of a stored certificate. */
export function readCertificatePems(
  where: string,
  data: unknown,
): { chainPem: string; privateKeyPem: string } {
  if (!isRecord(data)) fail(where, 'expected an object with chainPem and privateKeyPem');
  const chainPem = readString(`${where}.chainPem`, data.chainPem);
  const privateKeyPem = readString(`${where}.privateKeyPem`, data.privateKeyPem);
  if (!chainPem.includes('-----BEGIN CERTIFICATE-----')) fail(`${where}.chainPem`, 'not PEM');
  if (!privateKeyPem.includes('PRIVATE KEY-----')) fail(`${where}.privateKeyPem`, 'not PEM');

  // Catches a key that does not belong to the leaf (e.g. a rotation caught half-way) before
  // any connection is tried with it.
  try {
    createSecureContext({ cert: chainPem, key: privateKeyPem });
  } catch (err) {
    fail(where, `the key does not load with the certificate (${(err as Error).message})`);
  }
  return { chainPem, privateKeyPem };
}
