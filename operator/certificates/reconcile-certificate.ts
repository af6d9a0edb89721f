import type { MtlsError } from '../../core/errors/codes';
import type { StoredCertificate } from '../../core/mapping/index-document';
import { certificateVaultPath } from '../../core/vault/paths';
import type { VaultKv } from '../../core/vault/kv-client';
import type { Logger } from '../../core/log/logger';
import { EXPIRY_WARNING_DAYS } from '../../core/certificate/checks';
import { readyCondition, setCondition, READY } from '../../core/resources/conditions';
import type { ReconcileResult } from '../runtime/controller';
import type { Cluster } from '../resources/cluster';
import { asMergePatch, sameStatus } from '../resources/status-patch';
import { isVaultError, vaultFailure } from '../resources/vault-reason';
import {
  CERTIFICATE_FINALIZER,
  type MtlsCertificate,
  type MtlsCertificateStatus,
} from '../../core/resources/types';
import { analyzeMaterial, type MaterialVerdict } from './analyze-material';
import { earliest, nextExpiryCheck, requeueDelayMs } from './expiry-schedule';
import {
  findLastGood,
  servedOnStatus,
  type CertificateDetails,
  type ServedBundle,
} from './served-bundle';
import { isSourceProblem, readSourceMaterial } from './source-material';

/** What the certificate reconciler works with. */
export type CertificateReconcilerDeps = {
  cluster: Cluster;
  vault: VaultKv;
  /** The KV mount, for the path shown on status. */
  vaultMount: string;
  log: Logger;
  now: () => Date;
  /** How often a certificate adopted from a Vault path is read again; never when absent. */
  adoptedRecheckMs?: number;
  /** Called with a certificate's expiry, or undefined when it has none any more. */
  onExpiry?: (namespace: string, name: string, notAfter: Date | undefined) => void;
};

/**
 * Makes Vault and the status agree with an MtlsCertificate: reads its source, checks it, stores
 * the normalized bundle when its content changed, and reports the outcome on status. Invalid
 * input is recorded on status and not retried; a Vault failure is recorded and thrown, so the
 * queue retries it with backoff. Either way the last good bundle stays served until it expires.
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
    return recheckAdopted(deps, certificate, await syncCertificate(deps, certificate));
  } catch (err) {
    if (!isVaultError(err)) throw err;
    // Vault cannot be asked about the last good version now; what status names stays served.
    await writeVaultFailure(deps, certificate, err, (problem, served) =>
      served ? stillServed(deps, problem, served) : problem,
    );
    throw err;
  }
}

async function syncCertificate(
  deps: CertificateReconcilerDeps,
  certificate: MtlsCertificate,
): Promise<ReconcileResult> {
  const now = deps.now();
  const material = await readSourceMaterial(certificate, deps.cluster, deps.vault);
  if (isSourceProblem(material)) return refuse(deps, certificate, material, now);

  const verdict = analyzeMaterial(material, now);
  if (!verdict.bundle) return refuse(deps, certificate, verdict.failure!, now, verdict);

  const { namespace, name } = certificate.metadata;
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

  if (adoptedPath) await removeOwnCopy(deps, certificate);

  const notAfter = new Date(verdict.bundle.metadata.notAfter);
  const stored = `stored in Vault at ${deps.vaultMount}/${vaultPath}, version ${vaultVersion}`;
  const details = detailsOf(verdict);
  // The message names the version and not the days left, so the warning is made once a version.
  await writeStatus(deps, certificate, {
    ready: true,
    reason: verdict.expiresSoon ? 'ExpiringSoon' : 'Synced',
    warning: verdict.expiresSoon,
    message: verdict.expiresSoon
      ? `${stored}; it expires on ${notAfter.toISOString()}, within ` +
        `${EXPIRY_WARNING_DAYS} days: renew it and replace the source`
      : stored,
    details,
    served: { vaultPath, vaultVersion, details },
  });
  deps.onExpiry?.(namespace, name, notAfter);
  return requeueAt(nextExpiryCheck(notAfter, now), now);
}

// Refused input: the last good bundle, while it lasts, stays served and is what status shows.
async function refuse(
  deps: CertificateReconcilerDeps,
  certificate: MtlsCertificate,
  failure: { reason: string; message: string; problems?: string[]; retryAt?: Date },
  now: Date,
  verdict?: MaterialVerdict,
): Promise<ReconcileResult> {
  const { namespace, name } = certificate.metadata;
  const lastGood = await findLastGood(deps.vault, certificate, now);
  const { reason, problems, retryAt } = failure;
  if (!lastGood) {
    await writeStatus(deps, certificate, {
      ready: false,
      reason,
      message: failure.message,
      problems,
      details: verdict && detailsOf(verdict),
    });
    deps.onExpiry?.(namespace, name, undefined);
    return { ...requeueAt(retryAt, now), refused: true };
  }

  const lastGoodUntil = new Date(lastGood.details.notAfter!);
  await writeStatus(deps, certificate, {
    ready: false,
    reason,
    message: stillServed(deps, failure.message, lastGood),
    problems,
    details: lastGood.details,
    served: lastGood,
  });
  deps.onExpiry?.(namespace, name, lastGoodUntil);
  return { ...requeueAt(earliest(retryAt, lastGoodUntil), now), refused: true };
}

function stillServed(deps: CertificateReconcilerDeps, problem: string, served: ServedBundle) {
  return (
    `${problem}; the last good version ${served.vaultVersion} ` +
    `(${deps.vaultMount}/${served.vaultPath}) is still served, until ${served.details.notAfter}`
  );
}

function detailsOf(verdict: MaterialVerdict): CertificateDetails {
  const metadata = verdict.metadata;
  return {
    subject: metadata?.subject,
    issuer: metadata?.issuer,
    serialNumber: metadata?.serialNumber,
    notBefore: metadata?.notBefore,
    notAfter: metadata?.notAfter,
    keyAlgorithm: metadata?.keyAlgorithm,
    keySize: metadata?.keySize,
    fingerprintSha256: metadata?.fingerprintSha256,
    javaCompatibility: verdict.javaCompatibility,
  };
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
  /** The analysis codes of a refused source. */
  problems?: string[];
  /** A Ready outcome that still deserves a Warning Event. */
  warning?: boolean;
  /** What status describes: the certificate checked now, or the last good one. */
  details?: CertificateDetails;
  /** The Vault version the mappings are to use; none keeps them out of the index. */
  served?: ServedBundle;
};

// Builds the whole status so that fields of an earlier outcome do not linger, and writes it only
// when it differs from what the object already shows.
async function writeStatus(
  deps: CertificateReconcilerDeps,
  certificate: MtlsCertificate,
  outcome: Outcome,
): Promise<void> {
  const previous = certificate.status ?? {};
  const generation = certificate.metadata.generation;
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
    subject: undefined,
    issuer: undefined,
    serialNumber: undefined,
    notBefore: undefined,
    notAfter: undefined,
    keyAlgorithm: undefined,
    keySize: undefined,
    fingerprintSha256: undefined,
    javaCompatibility: undefined,
    ...outcome.details,
    vaultPath: outcome.served?.vaultPath,
    vaultVersion: outcome.served?.vaultVersion,
    problems: outcome.problems,
  };
  if (sameStatus(previous, status)) return;

  const { namespace, name } = certificate.metadata;
  await deps.cluster.patchCertificateStatus(namespace, name, asMergePatch(status));
  // An Event tells of a new verdict; an edit of the spec that changes none tells nothing new.
  const said = readyCondition(previous);
  if (said?.reason !== outcome.reason || said.message !== outcome.message) {
    await deps.cluster.recordEvent(
      certificate,
      outcome.ready && !outcome.warning ? 'Normal' : 'Warning',
      outcome.reason,
      outcome.message,
    );
  }
  deps.log.info('certificate status updated', {
    namespace,
    name,
    kind: 'MtlsCertificate',
    reason: outcome.reason,
    vaultVersion: outcome.served?.vaultVersion,
  });
}

/** Runs when an MtlsCertificate is being deleted: removes its Vault copy, then the finalizer. */
async function finalizeCertificate(
  deps: CertificateReconcilerDeps,
  certificate: MtlsCertificate,
): Promise<ReconcileResult> {
  const { namespace, name, finalizers = [] } = certificate.metadata;
  if (!finalizers.includes(CERTIFICATE_FINALIZER)) return {};

  try {
    await removeOwnCopy(deps, certificate);
  } catch (err) {
    if (!isVaultError(err)) throw err;
    // Without this the object would hang in Terminating with nothing on it saying why.
    const copy = `${deps.vaultMount}/${certificateVaultPath(namespace, name)}`;
    await writeVaultFailure(
      deps,
      certificate,
      err,
      (problem) =>
        `the copy at ${copy} could not be removed, so the finalizer stays until it is: ` + problem,
    );
    throw err;
  }
  await deps.cluster.setCertificateFinalizers(
    certificate,
    finalizers.filter((finalizer) => finalizer !== CERTIFICATE_FINALIZER),
  );
  deps.onExpiry?.(namespace, name, undefined);
  return {};
}

/**
 * Puts a Vault failure on the certificate's status, with the message `describe` makes of it;
 * the version status names as served stays served.
 */
async function writeVaultFailure(
  deps: CertificateReconcilerDeps,
  certificate: MtlsCertificate,
  err: MtlsError,
  describe: (problem: string, served: ServedBundle | undefined) => string,
): Promise<void> {
  const failure = vaultFailure(err, deps.vaultMount);
  const served = servedOnStatus(certificate, deps.now());
  await writeStatus(deps, certificate, {
    ready: false,
    reason: failure.reason,
    message: describe(failure.message, served),
    details: served?.details,
    served,
  });
}

// Nothing tells of a write to a Vault path, so an adopted one is read again within the interval:
// a new version is taken up, and a missing or malformed one is looked at again after a refusal.
function recheckAdopted(
  deps: CertificateReconcilerDeps,
  certificate: MtlsCertificate,
  result: ReconcileResult,
): ReconcileResult {
  const interval = deps.adoptedRecheckMs;
  if (!certificate.spec.source.vault || !interval) return result;
  return { requeueAfterMs: Math.min(result.requeueAfterMs ?? interval, interval) };
}

// Removes the bundle the operator stored for this certificate, if any, unless it is to be kept.
// A certificate that now adopts a Vault path leaves no private key behind from its old Secret.
async function removeOwnCopy(
  deps: CertificateReconcilerDeps,
  certificate: MtlsCertificate,
): Promise<void> {
  const { namespace, name } = certificate.metadata;
  const ownPath = certificateVaultPath(namespace, name);
  if (certificate.spec.retainPolicy === 'Retain') return;
  // Adopting the operator's own path makes it the source, which is never deleted.
  if (certificate.spec.source.vault?.path === ownPath) return;
  if (!(await deps.vault.read(ownPath))) return;

  await deps.vault.destroy(ownPath);
  deps.log.info('certificate removed from vault', { namespace, name, kind: 'MtlsCertificate' });
}

function requeueAt(when: Date | undefined, now: Date): ReconcileResult {
  const delay = requeueDelayMs(when, now);
  return delay === undefined ? {} : { requeueAfterMs: delay };
}
