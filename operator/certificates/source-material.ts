import { PKCS12_FILE_KEY, PKCS12_PASSWORD_KEY } from '../../core/resources/pkcs12-secret';
import type { VaultKv } from '../../core/vault/kv-client';
import { reachesOtherNamespace, VAULT_ROOT } from '../../core/vault/paths';
import type { Cluster } from '../resources/cluster';
import type { MtlsCertificate } from '../../core/resources/types';

/** The bytes a certificate's source holds, before analysis. */
export type SourceMaterial =
  | { kind: 'pkcs12'; file: Buffer; password: string }
  | {
      kind: 'pem';
      certificatePem: string;
      privateKeyPem: string;
      caPem?: string;
      /** The KV version read, when the source is an adopted Vault path. */
      adoptedVersion?: number;
    };

/** Why the source could not be read; `reason` becomes the Ready condition's reason. */
export type SourceProblem = {
  reason:
    | 'SecretNotFound'
    | 'SecretKeyNotFound'
    | 'VaultPathNotFound'
    | 'VaultPathForbidden'
    | 'InvalidCertificate';
  message: string;
};

// Field names an adopted Vault secret may use, ours first, then Vault PKI's, then a TLS Secret's.
const ADOPTED_FIELDS = [
  ['chainPem', 'privateKeyPem'],
  ['certificate', 'private_key'],
  ['tls.crt', 'tls.key'],
] as const;

/** Reads the material an MtlsCertificate's source names: a Secret, or an adopted Vault path. */
export async function readSourceMaterial(
  certificate: MtlsCertificate,
  cluster: Cluster,
  vault: VaultKv,
): Promise<SourceMaterial | SourceProblem> {
  const { namespace } = certificate.metadata;
  const { pkcs12, pem, vault: adopted } = certificate.spec.source;

  if (pkcs12) {
    const fileKey = pkcs12.fileKey ?? PKCS12_FILE_KEY;
    const passwordKey = pkcs12.passwordKey ?? PKCS12_PASSWORD_KEY;
    const secret = await cluster.getSecretData(namespace, pkcs12.secretName);
    if (!secret) return secretNotFound(namespace, pkcs12.secretName);

    const missing = [fileKey, passwordKey].filter((key) => secret.data[key] === undefined);
    if (missing.length > 0) return keyNotFound(namespace, pkcs12.secretName, missing);
    return {
      kind: 'pkcs12',
      file: secret.data[fileKey],
      password: secret.data[passwordKey].toString('utf8'),
    };
  }

  if (pem) {
    const secret = await cluster.getSecretData(namespace, pem.secretName);
    if (!secret) return secretNotFound(namespace, pem.secretName);

    const missing = ['tls.crt', 'tls.key'].filter((key) => secret.data[key] === undefined);
    if (missing.length > 0) return keyNotFound(namespace, pem.secretName, missing);
    return {
      kind: 'pem',
      certificatePem: secret.data['tls.crt'].toString('utf8'),
      privateKeyPem: secret.data['tls.key'].toString('utf8'),
      caPem: secret.data['ca.crt']?.toString('utf8'),
    };
  }

  const path = adopted!.path;
  if (reachesOtherNamespace(path, namespace)) {
    return {
      reason: 'VaultPathForbidden',
      message:
        `spec.source.vault.path '${path}' reaches into the operator's copies of another ` +
        `namespace's certificates: adopt a path outside ${VAULT_ROOT}/, or below ` +
        `${VAULT_ROOT}/${namespace}/, without '.' or '..' segments`,
    };
  }
  const stored = await vault.read<Record<string, unknown>>(path);
  if (!stored) {
    return {
      reason: 'VaultPathNotFound',
      message:
        `no secret at Vault path '${path}' in the KV mount: ` +
        'write it first, or fix spec.source.vault.path',
    };
  }
  for (const [certField, keyField] of ADOPTED_FIELDS) {
    const chain = stored.data[certField];
    const key = stored.data[keyField];
    if (typeof chain === 'string' && typeof key === 'string') {
      return {
        kind: 'pem',
        certificatePem: chain,
        privateKeyPem: key,
        adoptedVersion: stored.version,
      };
    }
  }
  const expected = ADOPTED_FIELDS.map(([cert, key]) => `${cert}+${key}`).join(', ');
  return {
    reason: 'InvalidCertificate',
    message: `the Vault secret at '${path}' has none of the field pairs ${expected}`,
  };
}

/** True when reading the source failed. */
export function isSourceProblem(value: SourceMaterial | SourceProblem): value is SourceProblem {
  return 'reason' in value;
}

function secretNotFound(namespace: string, name: string): SourceProblem {
  return {
    reason: 'SecretNotFound',
    message: `Secret ${namespace}/${name} does not exist: create it, or fix the secretName`,
  };
}

function keyNotFound(namespace: string, name: string, keys: string[]): SourceProblem {
  return {
    reason: 'SecretKeyNotFound',
    message: `Secret ${namespace}/${name} has no key ${keys.map((key) => `'${key}'`).join(' or ')}`,
  };
}
