import { ErrorCode } from '../../../core/errors/codes';
import { collectionPath, objectPath } from '../../../core/kube/api-paths';
import { isAlreadyExists, type KubeClient } from '../../../core/kube/kube-client';
import type { Logger } from '../../../core/log/logger';
import { DISPLAY_NAME_ANNOTATION } from '../../../core/resources/annotations';
import { RESOURCES } from '../../../core/resources/api-resources';
import {
  isWrittenByProject,
  MANAGED_BY_LABEL,
  PKCS12_FILE_KEY,
  PKCS12_PASSWORD_KEY,
  pkcs12SecretName,
  pkcs12SecretOf,
  SecretWriter,
} from '../../../core/resources/pkcs12-secret';
import { API_VERSION, type MtlsCertificate } from '../../../core/resources/types';
import { GatewayError } from '../gateway-error';
import type { CertificateUpload } from './certificate-upload';

/** The label on every object the gateway writes. */
export const MANAGED_BY = { [MANAGED_BY_LABEL]: SecretWriter.gateway } as const;

const PKCS12_SOURCE_KEYS = { fileKey: PKCS12_FILE_KEY, passwordKey: PKCS12_PASSWORD_KEY };

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
    const secretName = pkcs12SecretName(upload.name);
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
            source: { pkcs12: { secretName, ...PKCS12_SOURCE_KEYS } },
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
   * Writes a new file and password into the Secret the certificate's source names (made if
   * missing) and points the certificate at it; the operator then stores the new version in
   * Vault. A Secret that neither the gateway nor kubectl-mtls made is not overwritten: the new
   * file goes to the default Secret instead, and the other is left to its owner.
   */
  async update(namespace: string, upload: CertificateUpload): Promise<MtlsCertificate> {
    const current = await this.get(namespace, upload.name);
    const secretName = await this.updatedSecretName(namespace, current);
    const secretPath = objectPath(RESOURCES.secrets, namespace, secretName);

    const secret = await this.kube.get<Secret>(secretPath);
    if (secret && !isWrittenByProject(secret)) {
      throw new GatewayError(
        409,
        ErrorCode.CertificateExists,
        `Secret ${secretName} in namespace ${namespace} was made neither by the gateway nor by ` +
          'kubectl-mtls; the gateway does not overwrite it',
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
    const pkcs12 = { secretName, ...PKCS12_SOURCE_KEYS };
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

  /**
   * Deletes the MtlsCertificate, and the Secret its source names when the gateway or
   * kubectl-mtls made it. 404 when absent.
   */
  async delete(namespace: string, name: string): Promise<void> {
    const certificate = await this.get(namespace, name);
    await this.kube.delete(objectPath(RESOURCES.certificates, namespace, name));

    const secretName = certificate.spec.source.pkcs12?.secretName;
    if (secretName === undefined) return;
    const secretPath = objectPath(RESOURCES.secrets, namespace, secretName);
    const secret = await this.kube.get<Secret>(secretPath);
    if (secret && isWrittenByProject(secret)) await this.kube.delete(secretPath);
  }

  // The Secret in use, unless a user made it (theirs to change): then the default one.
  private async updatedSecretName(namespace: string, current: MtlsCertificate): Promise<string> {
    const referenced = pkcs12SecretOf(current);
    const fallback = pkcs12SecretName(current.metadata.name);
    if (referenced === fallback) return referenced;

    const secret = await this.kube.get<Secret>(
      objectPath(RESOURCES.secrets, namespace, referenced),
    );
    return !secret || isWrittenByProject(secret) ? referenced : fallback;
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
    [PKCS12_FILE_KEY]: upload.p12.toString('base64'),
    [PKCS12_PASSWORD_KEY]: Buffer.from(upload.password, 'utf8').toString('base64'),
  };
}
