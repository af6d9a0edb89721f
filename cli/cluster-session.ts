import { ErrorCode, MtlsError } from '../core/errors/codes';
import { collectionPath, objectPath, type ApiResource } from '../core/kube/api-paths';
import { isNotFound, KubeClient } from '../core/kube/kube-client';
import { loadKubeConnection } from '../core/kube/kube-connection';
import { RESOURCES } from '../core/resources/api-resources';
import type { MtlsCertificate, MtlsMapping } from '../core/resources/types';
import type { Invocation } from './commands/command';

type List<T> = { items?: T[] };

/** The apiserver connection of one command, and the namespace it works in. */
export class ClusterSession {
  private constructor(
    readonly client: KubeClient,
    readonly namespace: string,
  ) {}

  /** Connects as kubectl would: --kubeconfig, KUBECONFIG or ~/.kube/config, then --context. */
  static open(invocation: Invocation): ClusterSession {
    const { kubeconfig } = invocation.settings();
    const connection = loadKubeConnection(kubeconfig, invocation.args.values.get('context'));
    const namespace = invocation.args.values.get('namespace') || connection.namespace;
    // One command makes a few requests in a row: one connection is all it needs.
    return new ClusterSession(new KubeClient(connection, 1), namespace);
  }

  /**
   * Runs `use` with a session, and closes the connection however it ends. A system error (the
   * apiserver refused the connection, its name did not resolve, its certificate is not trusted)
   * is reported with the apiserver's address, which the bare error does not name.
   */
  static async with<T>(invocation: Invocation, use: (session: ClusterSession) => Promise<T>) {
    const session = ClusterSession.open(invocation);
    try {
      return await use(session);
    } catch (err) {
      if (err instanceof MtlsError || typeof (err as { code?: unknown }).code !== 'string') {
        throw err;
      }
      const server = session.client.connection.server;
      throw new MtlsError(
        ErrorCode.KubeApiFailed,
        `cannot reach the apiserver at ${server}: ${(err as Error).message}`,
        { cause: err },
      );
    } finally {
      session.client.close();
    }
  }

  /** The MtlsMappings of the namespace. */
  mappings(): Promise<MtlsMapping[]> {
    return this.list<MtlsMapping>(RESOURCES.mappings, this.namespace);
  }

  /** The MtlsCertificates of the namespace, or of every namespace. */
  certificates(allNamespaces = false): Promise<MtlsCertificate[]> {
    return this.list<MtlsCertificate>(
      RESOURCES.certificates,
      allNamespaces ? undefined : this.namespace,
    );
  }

  /** One MtlsCertificate of the namespace, or undefined when it does not exist. */
  certificate(name: string): Promise<MtlsCertificate | undefined> {
    return this.client.get<MtlsCertificate>(
      objectPath(RESOURCES.certificates, this.namespace, name),
    );
  }

  // A list answers 404 only when the apiserver does not serve the kind: the CRDs are missing.
  private async list<T>(resource: ApiResource, namespace: string | undefined): Promise<T[]> {
    try {
      const list = await this.client.request<List<T>>('GET', collectionPath(resource, namespace));
      return list.items ?? [];
    } catch (err) {
      if (!isNotFound(err)) throw err;
      throw new MtlsError(
        ErrorCode.KubeApiFailed,
        `this cluster does not serve ${resource.kind} (${resource.group}/${resource.version}): ` +
          'install mtls-operator, or its CRDs from crds/',
      );
    }
  }
}
