import { collectionPath, objectPath } from '../core/kube/api-paths';
import { KubeClient } from '../core/kube/kube-client';
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

  /** Runs `use` with a session, and closes the connection however it ends. */
  static async with<T>(invocation: Invocation, use: (session: ClusterSession) => Promise<T>) {
    const session = ClusterSession.open(invocation);
    try {
      return await use(session);
    } finally {
      session.client.close();
    }
  }

  /** The MtlsMappings of the namespace. */
  async mappings(): Promise<MtlsMapping[]> {
    const list = await this.client.request<List<MtlsMapping>>(
      'GET',
      collectionPath(RESOURCES.mappings, this.namespace),
    );
    return list.items ?? [];
  }

  /** The MtlsCertificates of the namespace, or of every namespace. */
  async certificates(allNamespaces = false): Promise<MtlsCertificate[]> {
    const namespace = allNamespaces ? undefined : this.namespace;
    const list = await this.client.request<List<MtlsCertificate>>(
      'GET',
      collectionPath(RESOURCES.certificates, namespace),
    );
    return list.items ?? [];
  }

  /** One MtlsCertificate of the namespace, or undefined when it does not exist. */
  certificate(name: string): Promise<MtlsCertificate | undefined> {
    return this.client.get<MtlsCertificate>(
      objectPath(RESOURCES.certificates, this.namespace, name),
    );
  }
}
