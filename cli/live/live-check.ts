import { MtlsError } from '../../core/errors/codes';
import { CoreResources, objectPath } from '../../core/kube/api-paths';
import type { KubeClient } from '../../core/kube/kube-client';
import type { StoredCertificate } from '../../core/mapping/index-document';
import type { Destination } from '../../core/mapping/mapping-table';
import { probeMutualTls, type ProbeOutcome } from '../../core/mapping/mtls-probe';
import type { MtlsCertificate } from '../../core/resources/types';
import type { VaultKv } from '../../core/vault/kv-client';

/** What a live check needs besides the certificate: Vault, the apiserver, and its bounds. */
export type LiveCheckDeps = {
  vault: VaultKv;
  client: KubeClient;
  /** PEM of CAs trusted for every upstream, from --ca-file. */
  extraCaPem?: string;
  timeoutMs: number;
};

type ConfigMap = { data?: Record<string, string> };

/**
 * Calls the destination with the certificate as the sidecar would have it: the copy the
 * operator stored in Vault, and the trusted CAs the certificate names. Problems on the way
 * (not in Vault, CA missing, Vault refusing) are reported as a failed outcome.
 */
export async function checkLive(
  deps: LiveCheckDeps,
  certificate: MtlsCertificate | undefined,
  destination: Destination,
): Promise<ProbeOutcome> {
  const vaultPath = certificate?.status?.vaultPath;
  if (!certificate || !vaultPath) {
    return { ok: false, error: 'the certificate has no copy in Vault yet: it is not Ready' };
  }

  try {
    const stored = await deps.vault.read<Partial<StoredCertificate>>(vaultPath);
    const { chainPem, privateKeyPem } = stored?.data ?? {};
    if (typeof chainPem !== 'string' || typeof privateKeyPem !== 'string') {
      return { ok: false, error: `Vault has no chainPem and privateKeyPem at ${vaultPath}` };
    }

    const trusted = await trustedCaPem(deps.client, certificate);
    if (trusted === null) {
      const ref = certificate.spec.trustedCA!;
      const error = `ConfigMap '${ref.configMapName}' with key '${ref.key ?? 'ca.crt'}' not found`;
      return { ok: false, error };
    }
    const extraCaPems = [deps.extraCaPem, trusted].filter((pem) => pem !== undefined);
    return await probeMutualTls(
      destination,
      { chainPem, privateKeyPem, extraCaPems },
      deps.timeoutMs,
      'kubectl-mtls',
    );
  } catch (err) {
    if (err instanceof MtlsError) return { ok: false, error: err.message };
    throw err;
  }
}

// null: the certificate names a CA that is missing; undefined: it names none.
async function trustedCaPem(
  client: KubeClient,
  certificate: MtlsCertificate,
): Promise<string | null | undefined> {
  const ref = certificate.spec.trustedCA;
  if (!ref) return undefined;
  const path = objectPath(
    CoreResources.configMaps,
    certificate.metadata.namespace,
    ref.configMapName,
  );
  const configMap = await client.get<ConfigMap>(path);
  return configMap?.data?.[ref.key ?? 'ca.crt'] ?? null;
}
