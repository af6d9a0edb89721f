import { CoreResources, objectPath } from '../../core/kube/api-paths';
import type { KubeClient } from '../../core/kube/kube-client';

type Namespace = { metadata?: { labels?: Record<string, string> } };

type Entry = { labels: Promise<Record<string, string>>; readAt: number };

/**
 * The labels of namespaces, read through the API and kept a few seconds: a Deployment's pods
 * are admitted in bursts, and a label change is seen within the time to live.
 */
export class NamespaceLabels {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly client: KubeClient,
    private readonly ttlMs = 5000,
    private readonly maxEntries = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The namespace's labels; a namespace that does not exist has none. Failures throw. */
  get(namespace: string): Promise<Record<string, string>> {
    const cached = this.entries.get(namespace);
    if (cached && this.now() - cached.readAt < this.ttlMs) return cached.labels;

    if (this.entries.size >= this.maxEntries) this.entries.clear();
    const labels = this.read(namespace);
    const entry = { labels, readAt: this.now() };
    this.entries.set(namespace, entry);
    // A failed read is not kept: the next pod asks again.
    labels.catch(() => {
      if (this.entries.get(namespace) === entry) this.entries.delete(namespace);
    });
    return labels;
  }

  private async read(namespace: string): Promise<Record<string, string>> {
    const path = objectPath(CoreResources.namespaces, undefined, namespace);
    const object = await this.client.get<Namespace>(path);
    return object?.metadata?.labels ?? {};
  }
}
