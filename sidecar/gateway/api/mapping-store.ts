import { ErrorCode } from '../../../core/errors/codes';
import { collectionPath, objectPath } from '../../../core/kube/api-paths';
import {
  isAlreadyExists,
  isInvalid,
  isNotFound,
  PatchType,
  type KubeClient,
} from '../../../core/kube/kube-client';
import { RESOURCES } from '../../../core/resources/api-resources';
import { API_VERSION, type MtlsMapping } from '../../../core/resources/types';
import { GatewayError } from '../gateway-error';
import { MANAGED_BY } from './certificate-store';
import { SERVICE_LABEL } from './mapping-entity';

/** A mapping to create: the URL, the certificate, and optionally a name and a service. */
export type NewMapping = {
  /** Absent: the apiserver makes a name from `mapping-`. */
  name?: string;
  url: string;
  certificateName: string;
  serviceName?: string;
};

type MappingList = { items: MtlsMapping[] };

/** MtlsMappings as the API reads and writes them. */
export class MappingStore {
  constructor(private readonly kube: KubeClient) {}

  /** Every MtlsMapping of the namespace, by name. */
  async list(namespace: string): Promise<MtlsMapping[]> {
    const path = collectionPath(RESOURCES.mappings, namespace);
    const list = await this.kube.request<MappingList>('GET', path);
    return list.items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }

  /** One MtlsMapping, or a 404. */
  async get(namespace: string, name: string): Promise<MtlsMapping> {
    const mapping = await this.kube.get<MtlsMapping>(
      objectPath(RESOURCES.mappings, namespace, name),
    );
    if (!mapping) throw notFound(namespace, name);
    return mapping;
  }

  /** Creates an enabled mapping; a service becomes its workload selector. 409 if it exists. */
  async create(namespace: string, mapping: NewMapping): Promise<MtlsMapping> {
    const metadata = mapping.name
      ? { name: mapping.name, labels: MANAGED_BY }
      : { generateName: 'mapping-', labels: MANAGED_BY };
    try {
      return await this.kube.create<MtlsMapping>(collectionPath(RESOURCES.mappings, namespace), {
        apiVersion: API_VERSION,
        kind: 'MtlsMapping',
        metadata,
        spec: {
          url: mapping.url,
          certificateName: mapping.certificateName,
          enabled: true,
          ...(mapping.serviceName
            ? { workloadSelector: { matchLabels: { [SERVICE_LABEL]: mapping.serviceName } } }
            : {}),
        },
      });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      throw new GatewayError(
        409,
        ErrorCode.MappingExists,
        `MtlsMapping ${mapping.name} exists already in namespace ${namespace}`,
      );
    }
  }

  /**
   * Activates or deactivates a mapping, changing `spec.enabled` alone, so a change another
   * writer made to the rest of the spec meanwhile is kept. With `validated` the change applies
   * only while the mapping still names that URL and certificate (a status write in between does
   * not count), else 409. 404 when it is not there.
   */
  async setEnabled(
    namespace: string,
    name: string,
    enabled: boolean,
    validated?: Pick<MtlsMapping['spec'], 'url' | 'certificateName'>,
  ): Promise<MtlsMapping> {
    const path = objectPath(RESOURCES.mappings, namespace, name);
    try {
      if (!validated) return await this.kube.patch<MtlsMapping>(path, { spec: { enabled } });
      return await this.kube.patch<MtlsMapping>(
        path,
        [
          { op: 'test', path: '/spec/url', value: validated.url },
          { op: 'test', path: '/spec/certificateName', value: validated.certificateName },
          { op: 'add', path: '/spec/enabled', value: enabled },
        ],
        PatchType.json,
      );
    } catch (err) {
      // The apiserver answers a failed JSON patch test as an invalid request.
      if (validated && isInvalid(err)) {
        throw new GatewayError(
          409,
          ErrorCode.MappingChanged,
          `MtlsMapping ${name} in namespace ${namespace} changed while it was validated; ` +
            'send the request again',
        );
      }
      if (!isNotFound(err)) throw err;
      throw notFound(namespace, name);
    }
  }

  /** Deletes a mapping; 404 when it is not there. */
  async delete(namespace: string, name: string): Promise<void> {
    const deleted = await this.kube.delete(objectPath(RESOURCES.mappings, namespace, name));
    if (!deleted) throw notFound(namespace, name);
  }
}

function notFound(namespace: string, name: string): GatewayError {
  return new GatewayError(
    404,
    ErrorCode.MappingNotFound,
    `no MtlsMapping ${name} in namespace ${namespace}`,
  );
}
