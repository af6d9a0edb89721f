import { readFileSync } from 'node:fs';
import path from 'node:path';

import yaml from 'js-yaml';

import { inClusterApiserver } from '../config/cluster-environment';
import { ErrorCode, MtlsError } from '../errors/codes';

/** Where the in-cluster ServiceAccount credentials are mounted in every pod. */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

// Projected ServiceAccount tokens rotate (hourly by default): re-read the file this often.
const TOKEN_REREAD_MS = 60_000;

/** How to reach and authenticate to one apiserver. */
export type KubeConnection = {
  /** The apiserver's base URL, without a trailing slash. */
  server: string;
  /** TLS options for https.Agent: the CA, and the client certificate when it authenticates. */
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized: boolean };
  /** The Authorization header value of the next request, if any. */
  authorization: () => string | undefined;
  /** The namespace of the kubeconfig's context, or of the pod in a cluster. */
  namespace: string;
};

type NamedEntry<K extends string, T> = { name: string } & Record<K, T>;

type KubeconfigFile = {
  'current-context'?: string;
  clusters?: NamedEntry<'cluster', Record<string, unknown>>[];
  users?: NamedEntry<'user', Record<string, unknown>>[];
  contexts?: NamedEntry<'context', { cluster?: string; user?: string; namespace?: string }>[];
};

function invalid(message: string): MtlsError {
  return new MtlsError(ErrorCode.KubeconfigInvalid, message);
}

/** A token read from a file, read again now and then so that a rotated token is used. */
function tokenFromFile(file: string): () => string {
  let token = '';
  let readAt = 0;
  return () => {
    if (!token || Date.now() - readAt > TOKEN_REREAD_MS) {
      token = readFileSync(file, 'utf8').trim();
      readAt = Date.now();
    }
    return token;
  };
}

/**
 * The connection described by a kubeconfig file: its current context (or `context`), with
 * client certificates, tokens, token files or basic auth. Exec and auth-provider plugins are not
 * supported: a kubeconfig that needs one is refused with a clear error.
 */
export function connectionFromKubeconfig(file: string, context?: string): KubeConnection {
  let parsed: KubeconfigFile;
  try {
    // An empty file parses as undefined: it has no contexts, which is reported below.
    parsed = (yaml.load(readFileSync(file, 'utf8')) ?? {}) as KubeconfigFile;
  } catch (err) {
    throw invalid(`cannot read the kubeconfig ${file}: ${(err as Error).message}`);
  }
  const base = path.dirname(file);

  const contextName = context || parsed['current-context'];
  if (!contextName) {
    throw invalid(`the kubeconfig ${file} has no current-context and no context was named`);
  }
  const contextEntry = parsed.contexts?.find((entry) => entry.name === contextName)?.context;
  if (!contextEntry) throw invalid(`the kubeconfig ${file} has no context '${contextName}'`);
  const cluster = parsed.clusters?.find((entry) => entry.name === contextEntry.cluster)?.cluster;
  if (!cluster?.server) throw invalid(`the kubeconfig ${file} has no server for '${contextName}'`);
  const user = parsed.users?.find((entry) => entry.name === contextEntry.user)?.user ?? {};

  if (user.exec || user['auth-provider']) {
    throw invalid(
      `the kubeconfig user '${contextEntry.user}' needs an exec or auth-provider plugin, ` +
        'which is not supported: use a token, a token file or a client certificate',
    );
  }

  const material = (entry: Record<string, unknown>, key: string): Buffer | undefined => {
    const inline = entry[`${key}-data`];
    if (typeof inline === 'string') return Buffer.from(inline, 'base64');
    const named = entry[key];
    if (typeof named === 'string') return readFileSync(path.resolve(base, named));
    return undefined;
  };

  return {
    server: String(cluster.server).replace(/\/$/, ''),
    tls: {
      ca: material(cluster, 'certificate-authority'),
      cert: material(user, 'client-certificate'),
      key: material(user, 'client-key'),
      rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
    },
    authorization: userAuthorization(user, base),
    namespace: contextEntry.namespace || 'default',
  };
}

function userAuthorization(user: Record<string, unknown>, base: string): () => string | undefined {
  if (typeof user.token === 'string') {
    const header = `Bearer ${user.token}`;
    return () => header;
  }
  if (typeof user.tokenFile === 'string') {
    const token = tokenFromFile(path.resolve(base, user.tokenFile));
    return () => `Bearer ${token()}`;
  }
  if (typeof user.username === 'string' && typeof user.password === 'string') {
    const header = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
    return () => header;
  }
  return () => undefined;
}

/** The connection of a pod to its own cluster: the mounted ServiceAccount token and CA. */
export function connectionInCluster(serviceAccountDir = SERVICE_ACCOUNT_DIR): KubeConnection {
  const address = inClusterApiserver();
  if (!address) {
    throw invalid('not running in a cluster (KUBERNETES_SERVICE_HOST is unset): give a kubeconfig');
  }
  const { host, port } = address;

  const token = tokenFromFile(path.join(serviceAccountDir, 'token'));
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    tls: { ca: readFileSync(path.join(serviceAccountDir, 'ca.crt')), rejectUnauthorized: true },
    authorization: () => `Bearer ${token()}`,
    namespace: readFileSync(path.join(serviceAccountDir, 'namespace'), 'utf8').trim(),
  };
}

/** The kubeconfig file when one is given (the first of a `:`-separated list), else in-cluster. */
export function loadKubeConnection(kubeconfig: string, context?: string): KubeConnection {
  const file = kubeconfig.split(path.delimiter).find((entry) => entry !== '');
  return file ? connectionFromKubeconfig(file, context) : connectionInCluster();
}
