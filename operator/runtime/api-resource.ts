import type { KubeClient } from '../../core/kube/kube-client';
import type { InformedObject } from './object-key';

export { collectionPath, type ApiResource } from '../../core/kube/api-paths';

/** A list response: its items and the resourceVersion a watch continues from. */
export type ObjectList<T> = {
  metadata?: { resourceVersion?: string; continue?: string };
  items: T[];
};

/** How to list a collection: which objects, and in which representation. */
export type ListOptions<T> = {
  labelSelector?: string;
  /** The media types asked for, e.g. metadata only; default plain JSON. */
  accept?: string;
  /** Shapes each item as soon as its page arrives, so a page is not held longer than needed. */
  transform?: (item: T) => T;
};

// Pages keep a large list from arriving as one huge response.
const PAGE_SIZE = 500;

/**
 * Lists a collection as plain JSON objects, the same shape the watch stream delivers, following
 * continue tokens. The list's resourceVersion is the one to start a watch from.
 */
export async function listCollection<T extends InformedObject>(
  client: KubeClient,
  path: string,
  options: ListOptions<T> = {},
): Promise<ObjectList<T>> {
  const items: T[] = [];
  let resourceVersion = '';
  let continueToken: string | undefined;

  do {
    const page = await client.request<ObjectList<T>>('GET', path, {
      query: { limit: PAGE_SIZE, labelSelector: options.labelSelector, continue: continueToken },
      accept: options.accept,
    });
    for (const item of page.items ?? []) items.push(options.transform?.(item) ?? item);
    resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    continueToken = page.metadata?.continue || undefined;
  } while (continueToken);

  return { metadata: { resourceVersion }, items };
}
