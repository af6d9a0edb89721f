import { ErrorCode } from '../../../core/errors/codes';
import { collectionPath, objectPath } from '../../../core/kube/api-paths';
import { isAlreadyExists, type KubeClient } from '../../../core/kube/kube-client';
import type { Logger } from '../../../core/log/logger';
import { RESOURCES } from '../../../core/resources/api-resources';
import { API_VERSION, type MtlsCertificate } from '../../../core/resources/types';
import { GatewayError } from '../gateway-error';
import { DISPLAY_NAME_ANNOTATION } from './certificate-entity';
import type { CertificateUpload } from './certificate-upload';

/** The label on every object the gateway writes. */
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'mtls-gateway' } as const;

/** The Secret keys the gateway writes, the MtlsCertificate's defaults. */
const FILE_KEY = 'keystore.p12';
const PASSWORD_KEY = 'password';

/** The Secret that holds the PKCS#12 file and password of a certificate made by the gateway. */
export function p12SecretName(certificateName: string): string {
  return `${certificateName}.p12`;
}

type Secret = {
  metadata: { name: string; labels?: Record<string, string>; ownerReferences?: unknown[] };
  data?: Record<string, string>;
};

type CertificateList = { items: MtlsCertificate[] };

function notFound(namespace: string, name: string): GatewayError {
  return new GatewayError(
    404,
    ErrorCode.CertificateNotFound,
    `no MtlsCertificate ${name} in namespace ${namespace}`,
  );
}

function exists(namespace: string, name: string): GatewayError {
  return new GatewayError(
    409,
    ErrorCode.CertificateExists,
    `MtlsCertificate ${name} exists already in namespace ${namespace}: update it instead`,
  );
}

function isManaged(secret: Secret): boolean {
  return (
    secret.metadata.labels?.['app.kubernetes.io/managed-by'] ===
    MANAGED_BY['app.kubernetes.io/managed-by']
  );
}

/**
 * Certificates as Kubernetes objects: each write is a Secret (the PKCS#12 file and password)
 * and an MtlsCertificate that names it, so kubectl and GitOps see what the API did, and the
 * operator does the rest (analysis, Vault, status). The gateway writes with its own identity,
 * after RBAC has allowed the caller.
 */
export class CertificateStore {
  constructor(
    private readonly kube: KubeClient,
    private readonly log: Logger,
  ) {}

  /** Every MtlsCertificate of the namespace, by name. */
  async list(namespace: string): Promise<MtlsCertificate[]> {
    const path = collectionPath(RESOURCES.certificates, namespace);
    const list = await this.kube.request<CertificateList>('GET', path);
    return list.items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }

  /** One MtlsCertificate, or a 404. */
  async get(namespace: string, name: string): Promise<MtlsCertificate> {
    const path = objectPath(RESOURCES.certificates, namespace, name);
    const certificate = await this.kube.get<MtlsCertificate>(path);
    if (!certificate) throw notFound(namespace, name);
    return certificate;
  }

  /**
   * Creates the Secret, then the MtlsCertificate; if the second fails the first is removed, so
   * a refused create leaves nothing behind. 409 when either exists already.
   */
  async create(namespace: string, upload: CertificateUpload): Promise<MtlsCertificate> {
    const secretName = p12SecretName(upload.name);
    const existing = objectPath(RESOURCES.certificates, namespace, upload.name);
    if (await this.kube.get(existing)) throw exists(namespace, upload.name);
    try {
      await this.kube.create(collectionPath(RESOURCES.secrets, namespace), {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: secretName, labels: MANAGED_BY },
        type: 'Opaque',
        data: secretData(upload),
      });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      throw new GatewayError(
        409,
        ErrorCode.CertificateExists,
        `Secret ${secretName} exists already in namespace ${namespace}: ` +
          'delete it or choose another certificate name',
      );
    }

    let certificate: MtlsCertificate;
    try {
      certificate = await this.kube.create<MtlsCertificate>(
        collectionPath(RESOURCES.certificates, namespace),
        {
          apiVersion: API_VERSION,
          kind: 'MtlsCertificate',
          metadata: {
            name: upload.name,
            labels: MANAGED_BY,
            ...(upload.displayName
              ? { annotations: { [DISPLAY_NAME_ANNOTATION]: upload.displayName } }
              : {}),
          },
          spec: {
            source: { pkcs12: { secretName, fileKey: FILE_KEY, passwordKey: PASSWORD_KEY } },
          },
        },
      );
    } catch (err) {
      await this.kube.delete(objectPath(RESOURCES.secrets, namespace, secretName));
      if (!isAlreadyExists(err)) throw err;
      throw exists(namespace, upload.name);
    }

    await this.own(namespace, secretName, certificate);
    return certificate;
  }

  /**
   * Writes a new file and password into the certificate's gateway Secret (made if missing) and
   * points the certificate at it; the operator then stores the new version in Vault.
   */
  async update(namespace: string, upload: CertificateUpload): Promise<MtlsCertificate> {
    const current = await this.get(namespace, upload.name);
    const secretName = p12SecretName(upload.name);
    const secretPath = objectPath(RESOURCES.secrets, namespace, secretName);

    const secret = await this.kube.get<Secret>(secretPath);
    if (secret && !isManaged(secret)) {
      throw new GatewayError(
        409,
        ErrorCode.CertificateExists,
        `Secret ${secretName} in namespace ${namespace} was not made by the gateway; ` +
          'the gateway does not overwrite it',
      );
    }
    if (secret) {
      // A replace from the read, not a patch: the gateway's role updates Secrets, never patches.
      await this.kube.replace(secretPath, { ...secret, data: secretData(upload) });
    } else {
      await this.kube.create(collectionPath(RESOURCES.secrets, namespace), {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: secretName, labels: MANAGED_BY },
        type: 'Opaque',
        data: secretData(upload),
      });
      await this.own(namespace, secretName, current);
    }

    // A merge patch: the other sources are set to null, so exactly one remains.
    const pkcs12 = { secretName, fileKey: FILE_KEY, passwordKey: PASSWORD_KEY };
    return this.kube.patch<MtlsCertificate>(
      objectPath(RESOURCES.certificates, namespace, upload.name),
      {
        metadata: {
          ...(upload.displayName
            ? { annotations: { [DISPLAY_NAME_ANNOTATION]: upload.displayName } }
            : {}),
        },
        spec: { source: { pkcs12, pem: null, vault: null } },
      },
    );
  }

  /** Deletes the MtlsCertificate, and its Secret when the gateway made it. 404 when absent. */
  async delete(namespace: string, name: string): Promise<void> {
    const certificate = await this.get(namespace, name);
    await this.kube.delete(objectPath(RESOURCES.certificates, namespace, name));

    const secretName = p12SecretName(name);
    if (certificate.spec.source.pkcs12?.secretName !== secretName) return;
    const secretPath = objectPath(RESOURCES.secrets, namespace, secretName);
    const secret = await this.kube.get<Secret>(secretPath);
    if (secret && isManaged(secret)) await this.kube.delete(secretPath);
  }

  // The Secret belongs to the certificate: Kubernetes removes it when the certificate goes.
  private async own(namespace: string, secretName: string, owner: MtlsCertificate) {
    const reference = {
      apiVersion: API_VERSION,
      kind: 'MtlsCertificate',
      name: owner.metadata.name,
      uid: owner.metadata.uid,
    };
    const path = objectPath(RESOURCES.secrets, namespace, secretName);
    try {
      const secret = await this.kube.get<Secret>(path);
      if (!secret) return;
      secret.metadata.ownerReferences = [reference];
      await this.kube.replace(path, secret);
    } catch (err) {
      this.log.warn('certificate secret owner not set', { namespace, name: secretName, err });
    }
  }
}

function secretData(upload: CertificateUpload): Record<string, string> {
  return {
    [FILE_KEY]: upload.p12.toString('base64'),
    [PASSWORD_KEY]: Buffer.from(upload.password, 'utf8').toString('base64'),
  };
}
