import type { KubernetesObject } from '@kubernetes/client-node';

/** The queue key of an object: `namespace/name`, or `name` for a cluster-scoped object. */
export function objectKey(object: KubernetesObject): string {
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
