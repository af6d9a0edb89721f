import type {
  IndexedMapping,
  MappingIndexDocument,
  StoredCertificate,
} from '../../core/mapping/index-document';
import { MappingUrlError, parseMappingUrl, urlMatchKey } from '../../core/mapping/url-match';
import { canonicalJson } from '../../core/json/canonical';
import type { Logger } from '../../core/log/logger';
import type { VaultKv } from '../../core/vault/kv-client';
import { indexVaultPath } from '../../core/vault/paths';
import { isReady, READY, readyCondition, setCondition } from '../../core/resources/conditions';
import type { Cluster } from '../resources/cluster';
import { asMergePatch, sameStatus } from '../resources/status-patch';
import { isVaultError, vaultFailure } from '../resources/vault-reason';
import type { MtlsCertificate, MtlsMapping, MtlsMappingStatus } from '../../core/resources/types';
import type { ReconcileResult } from '../runtime/controller';
import { validateLive } from '../../core/mapping/live-validation';

/** What the namespace reconciler works with. */
export type NamespaceReconcilerDeps = {
  cluster: Cluster;
  vault: VaultKv;
  /** The KV mount, for the messages of Vault failures. */
  vaultMount: string;
  log: Logger;
  now: () => Date;
  liveValidationTimeoutMs: number;
  /**
   * The namespace's objects as the informers hold them: the watch event that queued this
   * reconcile has already reached the cache, and reading it spares the apiserver a list of
   * every object of the namespace on each certificate change.
   */
  listMappings: (namespace: string) => MtlsMapping[];
  listCertificates: (namespace: string) => MtlsCertificate[];
};

// Nothing watches ConfigMaps (the operator may only get them), so a missing CA is looked for again.
const TRUSTED_CA_RETRY_MS = 30_000;

type Verdict = {
  mapping: MtlsMapping;
  ready: boolean;
  reason: string;
  message: string;
  match?: MtlsMappingStatus['match'];
  indexed?: IndexedMapping;
};

/**
 * Decides every MtlsMapping of a namespace at once, because conflicts are between mappings:
 * each gets its status, and the namespace index in Vault lists exactly the Ready ones. The
 * oldest mapping (then the first by name) wins a (workload selector, URL) pair; later ones are
 * marked Conflict and name the winner. A mapping whose certificate's new source is refused stays
 * indexed at the certificate's last good version, which the certificate's status still names.
 */
export async function reconcileNamespace(
  deps: NamespaceReconcilerDeps,
  namespace: string,
): Promise<ReconcileResult> {
  const mappings = deps.listMappings(namespace);
  const certificates = deps.listCertificates(namespace);
  const certificateByName = new Map(certificates.map((c) => [c.metadata.name, c]));

  const winners = new Map<string, string>();
  const verdicts: Verdict[] = [];
  for (const mapping of [...mappings].sort(byAgeThenName)) {
    const verdict = await judgeMapping(deps, mapping, certificateByName);
    if (verdict.indexed) {
      const { selector, match: url } = verdict.indexed;
      const claim = `${canonicalJson(selector)} ${urlMatchKey(url)}`;
      const winner = winners.get(claim);
      if (winner) {
        Object.assign(verdict, conflictWith(winner, mapping.spec.url));
      } else {
        winners.set(claim, mapping.metadata.name);
      }
    }
    verdicts.push(verdict);
  }

  const index: MappingIndexDocument = {
    namespace,
    mappings: verdicts.flatMap((verdict) => (verdict.indexed ? [verdict.indexed] : [])),
  };
  try {
    await writeIndex(deps, index);
  } catch (err) {
    if (!isVaultError(err)) throw err;
    const failure = vaultFailure(err, deps.vaultMount);
    for (const verdict of verdicts) Object.assign(verdict, { ready: false, ...failure });
    await Promise.all(verdicts.map((verdict) => writeMappingStatus(deps, verdict)));
    throw err;
  }

  await Promise.all(verdicts.map((verdict) => writeMappingStatus(deps, verdict)));
  const waitingForCa = verdicts.some((verdict) => verdict.reason === 'TrustedCANotFound');
  return waitingForCa ? { requeueAfterMs: TRUSTED_CA_RETRY_MS } : {};
}

async function judgeMapping(
  deps: NamespaceReconcilerDeps,
  mapping: MtlsMapping,
  certificateByName: Map<string, MtlsCertificate>,
): Promise<Verdict> {
  const { spec } = mapping;
  let match;
  try {
    match = parseMappingUrl(spec.url);
  } catch (err) {
    if (!(err instanceof MappingUrlError)) throw err;
    return { mapping, ready: false, reason: 'InvalidUrl', message: err.message };
  }
  if (spec.enabled === false) {
    return { mapping, match, ready: false, reason: 'Disabled', message: 'spec.enabled is false' };
  }

  const certificate = certificateByName.get(spec.certificateName);
  if (!certificate || certificate.metadata.deletionTimestamp) {
    const message = `MtlsCertificate '${spec.certificateName}' does not exist in this namespace`;
    return { mapping, match, ready: false, reason: 'CertificateNotFound', message };
  }
  // The certificate's status names a Vault version only while one is good to serve: the
  // current one, or the last good one while a newer source is refused.
  const served = servedVersion(certificate);
  const ready = readyCondition(certificate.status);
  if (!served) {
    const detail = ready?.message ? `: ${ready.message}` : '';
    const message = `MtlsCertificate '${spec.certificateName}' is not Ready${detail}`;
    return { mapping, match, ready: false, reason: 'CertificateNotReady', message };
  }

  const trustedCaPem = await readTrustedCa(deps, certificate);
  if (trustedCaPem === null) {
    const ref = certificate.spec.trustedCA!;
    const message = `ConfigMap '${ref.configMapName}' with key '${ref.key ?? 'ca.crt'}' not found`;
    return { mapping, match, ready: false, reason: 'TrustedCANotFound', message };
  }

  const { vaultPath, vaultVersion } = served;
  if (spec.liveValidation && !alreadyValidated(mapping, vaultVersion)) {
    const problem = await validateAgainst(deps, match, vaultPath, trustedCaPem);
    if (problem) {
      return { mapping, match, ready: false, reason: 'ValidationFailed', message: problem };
    }
  }

  const indexed: IndexedMapping = {
    name: mapping.metadata.name,
    match,
    selector: { matchLabels: spec.workloadSelector?.matchLabels ?? {} },
    certificate: {
      name: certificate.metadata.name,
      vaultVersion,
      path: vaultPath,
    },
    ...(trustedCaPem ? { trustedCaPem } : {}),
  };
  const uses = `calls to ${spec.url} use certificate '${spec.certificateName}'`;
  const message =
    ready?.status === 'True'
      ? `${uses} (Vault version ${vaultVersion})`
      : `${uses} at its last good Vault version ${vaultVersion}, while the certificate is ` +
        `not Ready (${ready?.reason ?? 'not checked yet'}): ` +
        'its new source is refused or cannot be read';
  return { mapping, match, ready: true, reason: 'Active', message, indexed };
}

function servedVersion(certificate: MtlsCertificate) {
  const { vaultPath, vaultVersion } = certificate.status ?? {};
  return vaultPath && vaultVersion !== undefined ? { vaultPath, vaultVersion } : undefined;
}

// null: the CA is named but missing; undefined: none is named.
async function readTrustedCa(deps: NamespaceReconcilerDeps, certificate: MtlsCertificate) {
  const ref = certificate.spec.trustedCA;
  if (!ref) return undefined;
  const pem = await deps.cluster.getConfigMapValue(
    certificate.metadata.namespace,
    ref.configMapName,
    ref.key ?? 'ca.crt',
  );
  return pem ?? null;
}

function alreadyValidated(mapping: MtlsMapping, vaultVersion: number): boolean {
  return isReady(mapping) && mapping.status?.certificateVersion === vaultVersion;
}

async function validateAgainst(
  deps: NamespaceReconcilerDeps,
  match: NonNullable<Verdict['match']>,
  vaultPath: string,
  trustedCaPem: string | undefined,
): Promise<string | undefined> {
  const stored = await deps.vault.read<StoredCertificate>(vaultPath);
  if (!stored) return `the certificate is missing from Vault at ${vaultPath}`;
  return validateLive(
    match as IndexedMapping['match'],
    { chainPem: stored.data.chainPem, privateKeyPem: stored.data.privateKeyPem, trustedCaPem },
    deps.liveValidationTimeoutMs,
  );
}

function conflictWith(winner: string, url: string): Partial<Verdict> {
  return {
    ready: false,
    reason: 'Conflict',
    message: `MtlsMapping '${winner}' already maps ${url} for the same workloads; the oldest wins`,
    indexed: undefined,
  };
}

// Writes the index only when it changed, so a sidecar's cheap check sees a new version only then.
async function writeIndex(deps: NamespaceReconcilerDeps, index: MappingIndexDocument) {
  const path = indexVaultPath(index.namespace);
  const current = await deps.vault.read<MappingIndexDocument>(path);
  if (current && canonicalJson(current.data) === canonicalJson(index)) return;
  if (!current && index.mappings.length === 0) return;

  const version = await deps.vault.write(path, index, current?.version ?? 0);
  deps.log.info('mapping index stored', {
    namespace: index.namespace,
    vaultVersion: version,
    mappings: index.mappings.length,
  });
}

async function writeMappingStatus(deps: NamespaceReconcilerDeps, verdict: Verdict) {
  const { mapping } = verdict;
  const generation = mapping.metadata.generation;
  const status: MtlsMappingStatus = {
    observedGeneration: generation,
    conditions: setCondition(
      mapping.status?.conditions,
      {
        type: READY,
        status: verdict.ready ? 'True' : 'False',
        reason: verdict.reason,
        message: verdict.message,
        observedGeneration: generation,
      },
      deps.now(),
    ),
    match: verdict.match,
    certificateVersion: verdict.indexed?.certificate.vaultVersion,
  };
  if (sameStatus(mapping.status ?? {}, status)) return;

  const { namespace, name } = mapping.metadata;
  await deps.cluster.patchMappingStatus(namespace, name, asMergePatch(status));
  if (mapping.status?.conditions?.find((c) => c.type === READY)?.reason !== verdict.reason) {
    await deps.cluster.recordEvent(
      mapping,
      verdict.ready ? 'Normal' : 'Warning',
      verdict.reason,
      verdict.message,
    );
  }
  deps.log.info('mapping status updated', {
    namespace,
    name,
    kind: 'MtlsMapping',
    reason: verdict.reason,
  });
}

function byAgeThenName(a: MtlsMapping, b: MtlsMapping): number {
  const age = (a.metadata.creationTimestamp ?? '').localeCompare(
    b.metadata.creationTimestamp ?? '',
  );
  return age !== 0 ? age : a.metadata.name.localeCompare(b.metadata.name);
}
