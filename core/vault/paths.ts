/**
 * Where the project keeps its data inside the KV v2 mount. The operator writes below `mtls/`;
 * a workload's Vault role reads only its own namespace's subtree.
 */
export const VAULT_ROOT = 'mtls';

/** The logical path of a namespace's certificate, relative to the KV mount. */
export function certificateVaultPath(namespace: string, name: string): string {
  return `${VAULT_ROOT}/${namespace}/certificates/${name}`;
}

/** The logical path of a namespace's mapping index, relative to the KV mount. */
export function indexVaultPath(namespace: string): string {
  return `${VAULT_ROOT}/${namespace}/index`;
}

/** The HTTP API path of a KV v2 secret's data under a mount. */
export function kvDataPath(mount: string, logicalPath: string): string {
  return `${mount}/data/${logicalPath}`;
}

/** The HTTP API path of a KV v2 secret's metadata (all versions) under a mount. */
export function kvMetadataPath(mount: string, logicalPath: string): string {
  return `${mount}/metadata/${logicalPath}`;
}

/**
 * True when a logical path reaches into the operator's tree of a namespace other than
 * `namespace`, or may after normalization ('.' or '..' segments). Such a path is refused as an
 * adopted source and ignored in an index, so that no namespace can use another's private key.
 */
export function reachesOtherNamespace(logicalPath: string, namespace: string): boolean {
  const segments = logicalPath.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '.' || segment === '..')) return true;
  return segments[0] === VAULT_ROOT && segments[1] !== namespace;
}
