import * as k8s from '@kubernetes/client-node';

import {
  GROUP,
  PLURAL,
  VERSION,
  type MtlsCertificate,
  type MtlsCertificateStatus,
  type MtlsMapping,
  type MtlsMappingStatus,
} from '../../core/resources/types';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** True when the apiserver answered that the object does not exist. */
export function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 404;
}

/** True when the apiserver refused a write because the object changed since it was read. */
export function isConflict(err: unknown): boolean {
  return (err as { code?: number }).code === 409;
}

/**
 * The operator's view of the cluster: the custom resources, the Secrets and ConfigMaps they
 * refer to, and Events. Reads go to the apiserver, so a reconcile always sees the latest state.
 */
export class Cluster {
  private readonly custom: k8s.CustomObjectsApi;
  private readonly core: k8s.CoreV1Api;

  constructor(kubeConfig: k8s.KubeConfig) {
    this.custom = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
    this.core = kubeConfig.makeApiClient(k8s.CoreV1Api);
  }

  /** Reads an MtlsCertificate, or undefined when it is gone. */
  async getCertificate(namespace: string, name: string): Promise<MtlsCertificate | undefined> {
    return this.getCustom<MtlsCertificate>(PLURAL.MtlsCertificate, namespace, name);
  }

  /** Replaces an MtlsCertificate's status. */
  async patchCertificateStatus(
    namespace: string,
    name: string,
    status: MtlsCertificateStatus,
  ): Promise<void> {
    await this.patchStatus(PLURAL.MtlsCertificate, namespace, name, status);
  }

  /** Replaces an MtlsMapping's status. */
  async patchMappingStatus(namespace: string, name: string, status: MtlsMappingStatus) {
    await this.patchStatus(PLURAL.MtlsMapping, namespace, name, status);
  }

  /**
   * Sets the finalizers of an MtlsCertificate, only if it is still at `resourceVersion`:
   * a finalizer change must never overwrite one made by someone else.
   */
  async setCertificateFinalizers(
    certificate: MtlsCertificate,
    finalizers: string[],
  ): Promise<void> {
    const { namespace, name, resourceVersion } = certificate.metadata;
    await this.custom.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL.MtlsCertificate,
        namespace,
        name,
        body: { metadata: { finalizers, resourceVersion } },
      },
      mergePatch,
    );
  }

  /** Reads a Secret's data, decoded, or undefined when the Secret does not exist. */
  async getSecretData(
    namespace: string,
    name: string,
  ): Promise<{ type?: string; data: Record<string, Buffer> } | undefined> {
    try {
      const secret = await this.core.readNamespacedSecret({ namespace, name });
      const data: Record<string, Buffer> = {};
      for (const [key, value] of Object.entries(secret.data ?? {})) {
        data[key] = Buffer.from(value, 'base64');
      }
      return { type: secret.type, data };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Reads one key of a ConfigMap, or undefined when the ConfigMap or the key is missing. */
  async getConfigMapValue(namespace: string, name: string, key: string) {
    try {
      const configMap = await this.core.readNamespacedConfigMap({ namespace, name });
      return configMap.data?.[key];
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Records an Event on an object, for `kubectl describe`. */
  async recordEvent(
    object: MtlsCertificate | MtlsMapping,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const now = new Date();
    const { namespace, name, uid } = object.metadata;
    await this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${name}.`, namespace },
        involvedObject: {
          apiVersion: object.apiVersion,
          kind: object.kind,
          name,
          namespace,
          uid,
        },
        type,
        reason,
        message,
        source: { component: 'mtls-operator' },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  }

  private async getCustom<T>(plural: string, namespace: string, name: string) {
    try {
      const object = await this.custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural,
        namespace,
        name,
      });
      return object as T;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async patchStatus(plural: string, namespace: string, name: string, status: object) {
    await this.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, plural, namespace, name, body: { status } },
      mergePatch,
    );
  }
}
