import { ErrorCode } from '../../../core/errors/codes';
import { objectPath, CoreResources } from '../../../core/kube/api-paths';
import type { KubeClient } from '../../../core/kube/kube-client';
import type { UrlMatch } from '../../../core/mapping/index-document';
import { validateLive } from '../../../core/mapping/live-validation';
import type { MtlsCertificate } from '../../../core/resources/types';
import { readCertificatePems } from '../../source/mapping-index-reader';
import type { VaultSession } from '../../source/vault-session';
import { GatewayError } from '../gateway-error';
import { certificateState } from './certificate-entity';

/** What a live validation needs: Vault for the key, Kubernetes for trusted CAs. */
export type MappingValidatorOptions = {
  session: VaultSession;
  vaultMount: string;
  kube: KubeClient;
  /** CAs the gateway trusts for every upstream (`--extra-ca-file`). */
  extraCaPem?: string;
  timeoutMs: number;
};

type ConfigMap = { data?: Record<string, string> };

/**
 * Calls a URL over mutual TLS with a certificate before a mapping is accepted, with the same
 * material and trust the gateway would forward with: the version the operator stored in Vault,
 * the certificate's trusted CAs and the gateway's own.
 */
export class MappingValidator {
  constructor(private readonly options: MappingValidatorOptions) {}

  /** Resolves when the call succeeded; throws 424 with the transport error, 409 if not synced. */
  async validate(certificate: MtlsCertificate, match: UrlMatch): Promise<void> {
    const { namespace, name } = certificate.metadata;
    const vaultPath = certificate.status?.vaultPath;
    const version = certificate.status?.vaultVersion;
    if (certificateState(certificate) !== 'Available' || !vaultPath || version === undefined) {
      throw new GatewayError(
        409,
        ErrorCode.CertificateNotAvailable,
        `MtlsCertificate ${name} is not Available yet, so it cannot be used to validate the URL`,
      );
    }

    const { session, vaultMount, timeoutMs } = this.options;
    const where = `${vaultPath} version ${version}`;
    const secret = await session.withToken((token) =>
      session.client.readKv(token, vaultMount, vaultPath, version),
    );
    if (!secret) {
      throw new GatewayError(
        409,
        ErrorCode.CertificateNotAvailable,
        `the operator's copy of MtlsCertificate ${name} is missing in Vault at ${where}`,
      );
    }
    const pems = readCertificatePems(where, secret.data);

    const trusted = [this.options.extraCaPem, await this.trustedCa(certificate, namespace)];
    const trustedCaPem = trusted.filter((pem) => pem).join('\n') || undefined;
    const problem = await validateLive(match, { ...pems, trustedCaPem }, timeoutMs);
    if (problem !== undefined) {
      throw new GatewayError(
        424,
        ErrorCode.MappingValidationFailed,
        `the mutual-TLS call to https://${match.host}:${match.port} with certificate ${name} ` +
          `failed: ${problem}`,
      );
    }
  }

  private async trustedCa(certificate: MtlsCertificate, namespace: string) {
    const ref = certificate.spec.trustedCA;
    if (!ref) return undefined;
    const configMap = await this.options.kube.get<ConfigMap>(
      objectPath(CoreResources.configMaps, namespace, ref.configMapName),
    );
    return configMap?.data?.[ref.key ?? 'ca.crt'];
  }
}
