import type { StoredCertificate } from '../../core/mapping/index-document';
import { certificateVaultPath } from '../../core/vault/paths';
import type { VaultKv } from '../../core/vault/kv-client';
import type { Logger } from '../../core/log/logger';
import { MtlsError } from '../../core/errors/codes';
import { setCondition, READY } from '../../core/resources/conditions';
import type { ReconcileResult } from '../runtime/controller';
import type { Cluster } from '../resources/cluster';
import { asMergePatch, sameStatus } from '../resources/status-patch';
import {
  CERTIFICATE_FINALIZER,
  type MtlsCertificate,
  type MtlsCertificateStatus,
} from '../../core/resources/types';
import { analyzeMaterial, type MaterialVerdict } from './analyze-material';
import { isSourceProblem, readSourceMaterial } from './source-material';

/** What the certificate reconciler works with. */
export type CertificateReconcilerDeps = {
  cluster: Cluster;
  vault: VaultKv;
  /** The KV mount, for the path shown on status. */
  vaultMount: string;
  log: Logger;
  now: () => Date;
  /** Called with a certificate's expiry, or undefined when it has none any more. */
  onExpiry?: (namespace: string, name: string, notAfter: Date | undefined) => void;
};

// Look again at least this often, so an expiry is never missed by more than a day.
const MAX_REQUEUE_MS = 24 * 3600 * 1000;

/**
 * Makes Vault and the status agree with an MtlsCertificate: reads its source, checks it, stores
 * the normalized bundle when its content changed, and reports the outcome on status. Invalid
 * input is recorded on status and not retried; a Vault failure is recorded and thrown, so the
 * queue retries it with backoff.
 */
export async function reconcileCertificate(
  deps: CertificateReconcilerDeps,
  namespace: string,
  name: string,
): Promise<ReconcileResult> {
  const certificate = await deps.cluster.getCertificate(namespace, name);
  if (!certificate) {
    deps.onExpiry?.(namespace, name, undefined);
    return {};
  }
  if (certificate.metadata.deletionTimestamp) return finalizeCertificate(deps, certificate);

  const finalizers = certificate.metadata.finalizers ?? [];
  if (!finalizers.includes(CERTIFICATE_FINALIZER)) {
    await deps.cluster.setCertificateFinalizers(certificate, [
      ...finalizers,
      CERTIFICATE_FINALIZER,
    ]);
  }

  try {
    return await syncCertificate(deps, certificate);
  } catch (err) {
    if (!(err instanceof MtlsError) || !err.code.startsWith('VAULT_')) throw err;
    await writeStatus(deps, certificate, {
      ready: false,
      reason: 'VaultUnavailable',
      message: err.message,
    });
    throw err;
  }
}

async function syncCertificate(
  deps: CertificateReconcilerDeps,
  certificate: MtlsCertificate,
): Promise<ReconcileResult> {
  const { namespace, name } = certificate.metadata;
  const material = await readSourceMaterial(certificate, deps.cluster, deps.vault);
  if (isSourceProblem(material)) {
    await writeStatus(deps, certificate, { ready: false, ...material });
    deps.onExpiry?.(namespace, name, undefined);
    return {};
  }

  const now = deps.now();
  const verdict = analyzeMaterial(material, now);
  if (!verdict.bundle) {
    await writeStatus(deps, certificate, { ready: false, ...verdict.failure!, verdict });
    deps.onExpiry?.(namespace, name, undefined);
    return requeueAt(verdict.failure!.retryAt, now);
  }

  const adoptedPath = certificate.spec.source.vault?.path;
  const vaultPath = adoptedPath ?? certificateVaultPath(namespace, name);
  const adoptedVersion = material.kind === 'pem' ? material.adoptedVersion : undefined;
  const vaultVersion = adoptedPath
    ? adoptedVersion!
    : await storeBundle(deps, vaultPath, {
        chainPem: verdict.bundle.chainPem,
        privateKeyPem: verdict.bundle.privateKeyPem,
        metadata: verdict.bundle.metadata,
      });

  const notAfter = new Date(verdict.bundle.metadata.notAfter);
  await writeStatus(deps, certificate, {
    ready: true,
    reason: 'Synced',
    message: `stored in Vault at ${deps.vaultMount}/${vaultPath}, version ${vaultVersion}`,
    verdict,
    vaultPath,
    vaultVersion,
  });
  deps.onExpiry?.(namespace, name, notAfter);
  return requeueAt(notAfter, now);
}

// Writes a new version only when the content differs, so restarts make no duplicate writes.
async function storeBundle(
  deps: CertificateReconcilerDeps,
  vaultPath: string,
  stored: StoredCertificate,
): Promise<number> {
  const current = await deps.vault.read<StoredCertificate>(vaultPath);
  const unchanged =
    current &&
    current.data.chainPem === stored.chainPem &&
    current.data.privateKeyPem === stored.privateKeyPem;
  if (unchanged) return current.version;

  const version = await deps.vault.write(vaultPath, stored, current?.version ?? 0);
  deps.log.info('certificate stored', { vaultPath, vaultVersion: version });
  return version;
}

type Outcome = {
  ready: boolean;
  reason: string;
  message: string;
  verdict?: MaterialVerdict;
  vaultPath?: string;
  vaultVersion?: number;
};

// Builds the whole status so that fields of an earlier outcome do not linger, and writes it
// (with an Event) only when it differs from what the object already shows.
async function writeStatus(
  deps: CertificateReconcilerDeps,
  certificate: MtlsCertificate,
  outcome: Outcome,
): Promise<void> {
  const previous = certificate.status ?? {};
  const generation = certificate.metadata.generation;
  const metadata = outcome.verdict?.metadata;
  const status: MtlsCertificateStatus = {
    observedGeneration: generation,
    conditions: setCondition(
      previous.conditions,
      {
        type: READY,
        status: outcome.ready ? 'True' : 'False',
        reason: outcome.reason,
        message: outcome.message,
        observedGeneration: generation,
      },
      deps.now(),
    ),
    subject: metadata?.subject,
    issuer: metadata?.issuer,
    serialNumber: metadata?.serialNumber,
    notBefore: metadata?.notBefore,
    notAfter: metadata?.notAfter,
    keyAlgorithm: metadata?.keyAlgorithm,
    keySize: metadata?.keySize,
    fingerprintSha256: metadata?.fingerprintSha256,
    javaCompatibility: outcome.verdict?.javaCompatibility,
    vaultPath: outcome.vaultPath,
    vaultVersion: outcome.vaultVersion,
  };
  if (sameStatus(previous, status)) return;

  const { namespace, name } = certificate.metadata;
  await deps.cluster.patchCertificateStatus(namespace, name, asMergePatch(status));
  await deps.cluster.recordEvent(
    certificate,
    outcome.ready ? 'Normal' : 'Warning',
    outcome.reason,
    outcome.message,
  );
  deps.log.info('certificate status updated', {
    namespace,
    name,
    kind: 'MtlsCertificate',
    reason: outcome.reason,
    vaultVersion: outcome.vaultVersion,
  });
}

/** Runs when an MtlsCertificate is being deleted: removes its Vault copy, then the finalizer. */
async function finalizeCertificate(
  deps: CertificateReconcilerDeps,
  certificate: MtlsCertificate,
): Promise<ReconcileResult> {
  const { namespace, name, finalizers = [] } = certificate.metadata;
  if (!finalizers.includes(CERTIFICATE_FINALIZER)) return {};

  const adopted = certificate.spec.source.vault !== undefined;
  if (!adopted && certificate.spec.retainPolicy !== 'Retain') {
    await deps.vault.destroy(certificateVaultPath(namespace, name));
    deps.log.info('certificate removed from vault', { namespace, name, kind: 'MtlsCertificate' });
  }
  await deps.cluster.setCertificateFinalizers(
    certificate,
    finalizers.filter((finalizer) => finalizer !== CERTIFICATE_FINALIZER),
  );
  deps.onExpiry?.(namespace, name, undefined);
  return {};
}

function requeueAt(when: Date | undefined, now: Date): ReconcileResult {
  if (!when) return {};
  const delay = when.getTime() - now.getTime() + 1000;
  return { requeueAfterMs: Math.max(1000, Math.min(delay, MAX_REQUEUE_MS)) };
}
