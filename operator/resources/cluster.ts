import { CoreResources, collectionPath, objectPath } from '../../core/kube/api-paths';
import type { KubeClient } from '../../core/kube/kube-client';
import { RESOURCES } from '../../core/resources/api-resources';
import type {
  MtlsCertificate,
  MtlsCertificateStatus,
  MtlsMapping,
  MtlsMappingStatus,
} from '../../core/resources/types';

type CustomResource = typeof RESOURCES.certificates | typeof RESOURCES.mappings;

/**
 * The operator's view of the cluster: the custom resources, the Secrets and ConfigMaps they
 * refer to, and Events. Reads go to the apiserver, so a reconcile always sees the latest state.
 */
export class Cluster {
  constructor(private readonly client: KubeClient) {}

  /** Reads an MtlsCertificate, or undefined when it is gone. */
  async getCertificate(namespace: string, name: string): Promise<MtlsCertificate | undefined> {
    return this.client.get<MtlsCertificate>(objectPath(RESOURCES.certificates, namespace, name));
  }

  /** Replaces an MtlsCertificate's status. */
  async patchCertificateStatus(
    namespace: string,
    name: string,
    status: MtlsCertificateStatus,
  ): Promise<void> {
    await this.patchStatus(RESOURCES.certificates, namespace, name, status);
  }

  /** Replaces an MtlsMapping's status. */
  async patchMappingStatus(namespace: string, name: string, status: MtlsMappingStatus) {
    await this.patchStatus(RESOURCES.mappings, namespace, name, status);
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
    await this.client.patch(objectPath(RESOURCES.certificates, namespace, name), {
      metadata: { finalizers, resourceVersion },
    });
  }

  /** Reads a Secret's data, decoded, or undefined when the Secret does not exist. */
  async getSecretData(
    namespace: string,
    name: string,
  ): Promise<{ type?: string; data: Record<string, Buffer> } | undefined> {
    const secret = await this.client.get<{ type?: string; data?: Record<string, string> }>(
      objectPath(CoreResources.secrets, namespace, name),
    );
    if (!secret) return undefined;

    const data: Record<string, Buffer> = {};
    for (const [key, value] of Object.entries(secret.data ?? {})) {
      data[key] = Buffer.from(value, 'base64');
    }
    return { type: secret.type, data };
  }

  /** Reads one key of a ConfigMap, or undefined when the ConfigMap or the key is missing. */
  async getConfigMapValue(namespace: string, name: string, key: string) {
    const configMap = await this.client.get<{ data?: Record<string, string> }>(
      objectPath(CoreResources.configMaps, namespace, name),
    );
    return configMap?.data?.[key];
  }

  /** Records an Event on an object, for `kubectl describe`. */
  async recordEvent(
    object: MtlsCertificate | MtlsMapping,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<void> {
    const now = new Date().toISOString();
    const { namespace, name, uid } = object.metadata;
    await this.client.create(collectionPath(CoreResources.events, namespace), {
      apiVersion: 'v1',
      kind: 'Event',
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
    });
  }

  private async patchStatus(
    resource: CustomResource,
    namespace: string,
    name: string,
    status: object,
  ) {
    await this.client.patch(objectPath(resource, namespace, name, 'status'), { status });
  }
}
