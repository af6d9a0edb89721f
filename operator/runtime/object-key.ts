/**
 * The fields of an object the runtime relies on. Any Kubernetes object fits, the operator's own
 * resource types included, whatever they declare for timestamps.
 */
export type InformedObject = {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
  };
};

/** The queue key of an object: `namespace/name`, or `name` for a cluster-scoped object. */
export function objectKey(object: InformedObject): string {
  const name = object.metadata?.name ?? '';
  const namespace = object.metadata?.namespace;
  return namespace ? `${namespace}/${name}` : name;
}

/** The namespace and name a queue key stands for; the namespace is empty when cluster-scoped. */
export function parseObjectKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  if (slash < 0) return { namespace: '', name: key };
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
