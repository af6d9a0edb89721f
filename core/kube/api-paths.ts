/** A kind of object the apiserver serves: `group` is empty for the core group (Secrets, ...). */
export type ApiResource = {
  group: string;
  version: string;
  plural: string;
  kind: string;
};

/** The URL path of a collection, across the cluster or in one namespace. */
export function collectionPath(resource: ApiResource, namespace?: string): string {
  const root = resource.group ? `/apis/${resource.group}/${resource.version}` : '/api/v1';
  const scope = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${root}${scope}/${resource.plural}`;
}

/** The URL path of one object, or of its subresource (`status`, ...). */
export function objectPath(
  resource: ApiResource,
  namespace: string | undefined,
  name: string,
  subresource?: string,
): string {
  const object = `${collectionPath(resource, namespace)}/${encodeURIComponent(name)}`;
  return subresource ? `${object}/${subresource}` : object;
}

/** Resources several parts of the project use. */
export const CoreResources = {
  secrets: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' },
  configMaps: { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' },
  events: { group: '', version: 'v1', plural: 'events', kind: 'Event' },
  namespaces: { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace' },
  leases: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease' },
  tokenReviews: {
    group: 'authentication.k8s.io',
    version: 'v1',
    plural: 'tokenreviews',
    kind: 'TokenReview',
  },
  subjectAccessReviews: {
    group: 'authorization.k8s.io',
    version: 'v1',
    plural: 'subjectaccessreviews',
    kind: 'SubjectAccessReview',
  },
  mutatingWebhookConfigurations: {
    group: 'admissionregistration.k8s.io',
    version: 'v1',
    plural: 'mutatingwebhookconfigurations',
    kind: 'MutatingWebhookConfiguration',
  },
} as const satisfies Record<string, ApiResource>;
