import { isIP } from 'node:net';

import { ApiAuthPolicy } from './api-auth-policy';
import { ConfigError, describeOptions, parseOptions, type OptionValues } from './options';
import {
  durationMs,
  formatDuration,
  httpUrl,
  integer,
  oneOf,
  positiveNumber,
  text,
} from './parsers';

/** Pod labels given as `k=v,k=v`; an empty text means no labels. */
export function labelList(raw: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`expected labels such as app=shop,tier=web, got '${raw}'`);
    labels[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return labels;
}

/** A comma list of CIDRs such as `10.0.0.0/8,fd00::/8`; a bare address is one host. */
export function cidrList(raw: string): string[] {
  const cidrs: string[] = [];
  for (const item of raw.split(',')) {
    const entry = item.trim();
    if (entry === '') continue;
    const [address, prefix, extra] = entry.split('/');
    const family = isIP(address);
    const most = family === 6 ? 128 : 32;
    const bits = prefix === undefined ? most : Number(prefix);
    const prefixOk = prefix === undefined || (/^\d+$/.test(prefix) && bits <= most);
    if (family === 0 || extra !== undefined || !prefixOk) {
      throw new Error(`expected CIDRs such as 10.0.0.0/8,fd00::/8, got '${entry}'`);
    }
    cidrs.push(`${address}/${bits}`);
  }
  return cidrs;
}

/** A `redis://` or `rediss://` URL, or empty for none. */
export function redisUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error('expected a URL such as redis://redis.mtls-system:6379');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new Error(`expected a redis:// or rediss:// URL, got the scheme ${url.protocol}`);
  }
  return raw;
}

/** An IPv4 or IPv6 address to listen on, such as 127.0.0.1, 0.0.0.0 or ::. */
export function listenAddress(raw: string): string {
  if (isIP(raw) === 0) throw new Error(`expected an IP address such as 127.0.0.1, got '${raw}'`);
  return raw;
}

/**
 * The origin OAuth 1.0 clients sign when a proxy in front of the gateway terminates TLS, such as
 * `https://gw.example`, or empty for none. Only an origin: paths reach the gateway as received.
 */
export function externalOrigin(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`expected an origin such as https://gw.example, got '${raw}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`expected an http or https URL, got the scheme ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error(`expected an origin without user or password, got '${raw}'`);
  }
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new Error(
      `expected an origin without path, query or fragment, got '${raw}': clients sign the path ` +
        'the gateway receives, so a proxy in front of it must not rewrite paths',
    );
  }
  return url.origin;
}

/** A duration longer than zero, as the webhook also demands of the pod annotation. */
function positiveDurationMs(raw: string): number {
  const value = durationMs(raw);
  if (value <= 0) throw new Error(`expected a duration longer than zero, got '${raw}'`);
  return value;
}

/** Every option of `mtls-sidecar`, with its flag, environment variable and default. */
export const sidecarOptionTable = {
  mode: {
    flag: 'mode',
    env: 'MTLS_MODE',
    description:
      'sidecar (one workload, the pod) or gateway (shared: the API and the forwarding method ' +
      'for every namespace, callers authenticated)',
    parse: oneOf('sidecar', 'gateway'),
    default: 'sidecar' as const,
  },
  listenPort: {
    flag: 'listen-port',
    env: 'MTLS_LISTEN_PORT',
    description: 'port of the plain-HTTP proxy the application talks to (0 picks a free port)',
    parse: integer(0, 65535),
    default: 15001,
  },
  listenAddress: {
    flag: 'listen-address',
    env: 'MTLS_LISTEN_ADDRESS',
    description:
      'address the proxy listens on; by default 127.0.0.1 in sidecar mode, so that only the ' +
      "pod's own containers can use its client certificates, and 0.0.0.0 in gateway mode",
    parse: listenAddress,
    default: '',
  },
  adminPort: {
    flag: 'admin-port',
    env: 'MTLS_ADMIN_PORT',
    description:
      'port of /metrics, /healthz and /readyz, on every interface for the kubelet probes ' +
      '(0 picks a free port)',
    parse: integer(0, 65535),
    default: 15020,
  },
  namespace: {
    flag: 'namespace',
    env: 'POD_NAMESPACE',
    description:
      "namespace whose mappings and certificates this proxy uses; in gateway mode the gateway's " +
      'own namespace, where its OAuth 1.0 consumer Secrets live',
    parse: text,
  },
  podLabels: {
    flag: 'pod-labels',
    env: 'MTLS_POD_LABELS',
    description: 'labels of the calling workload, k=v,k=v, matched against mapping selectors',
    parse: labelList,
    default: {} as Record<string, string>,
    show: (labels: Record<string, string>) =>
      Object.entries(labels)
        .map((label) => label.join('='))
        .join(','),
  },
  vaultAddr: {
    flag: 'vault-addr',
    env: 'VAULT_ADDR',
    description: 'Vault or OpenBao address; empty when --config-file is used',
    parse: httpUrl,
    default: '',
  },
  vaultMount: {
    flag: 'vault-mount',
    env: 'MTLS_VAULT_MOUNT',
    description: 'KV version 2 mount that holds the mtls/ tree',
    parse: text,
    default: 'secret',
  },
  vaultAuthMount: {
    flag: 'vault-auth-mount',
    env: 'MTLS_VAULT_AUTH_MOUNT',
    description: 'mount of the Kubernetes auth method',
    parse: text,
    default: 'kubernetes',
  },
  vaultRole: {
    flag: 'vault-role',
    env: 'MTLS_VAULT_ROLE',
    description: 'Vault role of the Kubernetes auth login; needed unless --vault-token is given',
    parse: text,
    default: '',
  },
  vaultToken: {
    flag: 'vault-token',
    env: 'VAULT_TOKEN',
    description: 'a static Vault token for local runs, instead of the Kubernetes login',
    parse: text,
    default: '',
  },
  tokenFile: {
    flag: 'token-file',
    env: 'MTLS_TOKEN_FILE',
    description: 'ServiceAccount token used for the Kubernetes auth login',
    parse: text,
    default: '/var/run/secrets/mtls.io/serviceaccount/token',
  },
  refreshIntervalMs: {
    flag: 'refresh-interval',
    env: 'MTLS_REFRESH_INTERVAL',
    description: 'how often every certificate is read again from Vault',
    parse: positiveDurationMs,
    default: 300_000,
    show: formatDuration,
  },
  checkIntervalMs: {
    flag: 'check-interval',
    env: 'MTLS_CHECK_INTERVAL',
    description:
      'how often the namespace index is read to notice changes; after a failure, retries back ' +
      'off from 1s up to this interval',
    parse: positiveDurationMs,
    default: 15_000,
    show: formatDuration,
  },
  unmapped: {
    flag: 'unmapped',
    env: 'MTLS_UNMAPPED',
    description:
      'what happens to calls no mapping covers: deny (403) or passthrough (no client cert)',
    parse: oneOf('deny', 'passthrough'),
    default: 'deny' as const,
  },
  rate: {
    flag: 'rate',
    env: 'MTLS_RATE',
    description: 'requests per second allowed per source IP',
    parse: positiveNumber,
    default: 10,
  },
  burst: {
    flag: 'burst',
    env: 'MTLS_BURST',
    description: 'requests a source IP may send at once before the rate applies',
    parse: integer(1, 1_000_000),
    default: 10,
  },
  rateLimitStore: {
    flag: 'rate-limit-store',
    env: 'MTLS_RATE_LIMIT_STORE',
    description:
      'where per-source rates are counted: memory (this process) or redis (shared by replicas)',
    parse: oneOf('memory', 'redis'),
    default: 'memory' as const,
  },
  redisUrl: {
    flag: 'redis-url',
    env: 'MTLS_REDIS_URL',
    description: 'Redis of the shared rate limit, redis://[user:password@]host:port or rediss://',
    parse: redisUrl,
    default: '',
  },
  rateLimitFailMode: {
    flag: 'rate-limit-fail-mode',
    env: 'MTLS_RATE_LIMIT_FAIL_MODE',
    description:
      'while Redis is unreachable: open (each replica limits on its own) or closed (refuse, 503)',
    parse: oneOf('open', 'closed'),
    default: 'open' as const,
  },
  configFile: {
    flag: 'config-file',
    env: 'MTLS_CONFIG_FILE',
    description: 'standalone mode: YAML file of certificates and mappings, instead of Vault',
    parse: text,
    default: '',
  },
  extraCaFile: {
    flag: 'extra-ca-file',
    env: 'MTLS_EXTRA_CA_FILE',
    description: 'PEM file of CAs trusted for every upstream besides the system roots',
    parse: text,
    default: '',
  },
  upstreamTimeoutMs: {
    flag: 'upstream-timeout',
    env: 'MTLS_UPSTREAM_TIMEOUT',
    description: 'how long to wait for an upstream to connect, answer or send more body',
    parse: positiveDurationMs,
    default: 30_000,
    show: formatDuration,
  },
  shutdownTimeoutMs: {
    flag: 'shutdown-timeout',
    env: 'MTLS_SHUTDOWN_TIMEOUT',
    description:
      'on SIGTERM, how long requests in flight may finish before their connections are ended; ' +
      "keep it below the pod's termination grace period (30s by default)",
    parse: positiveDurationMs,
    default: 20_000,
    show: formatDuration,
  },
  kubeconfig: {
    flag: 'kubeconfig',
    env: 'KUBECONFIG',
    description:
      "gateway mode: kubeconfig of the gateway's own Kubernetes access; in-cluster if empty",
    parse: text,
    default: '',
  },
  apiAuth: {
    flag: 'api-auth',
    env: 'MTLS_API_AUTH',
    description:
      'gateway mode: schemes (bearer, oauth1) each group of operations (check, certificates, ' +
      'mappings, p12, forward) takes, as group=scheme[+scheme],...; other groups keep defaults',
    parse: (raw: string) => ApiAuthPolicy.parse(raw),
    default: ApiAuthPolicy.defaults,
  },
  apiAudiences: {
    flag: 'api-audiences',
    env: 'MTLS_API_AUDIENCES',
    description:
      "gateway mode: audiences a caller's Bearer token must have, comma list; empty: the " +
      "apiserver's own",
    parse: text,
    default: '',
  },
  oauthExternalUrl: {
    flag: 'oauth-external-url',
    env: 'MTLS_OAUTH_EXTERNAL_URL',
    description:
      'gateway mode: origin OAuth 1.0 clients sign, such as https://gw.example, when an ingress ' +
      'in front of the gateway terminates TLS; empty: http:// and the Host header',
    parse: externalOrigin,
    default: '',
  },
  trustedProxies: {
    flag: 'trusted-proxies',
    env: 'MTLS_TRUSTED_PROXIES',
    description:
      'gateway mode: CIDRs of proxies in front of the gateway (an ingress), comma list; the rate ' +
      'limit counts a request from one against the address its X-Forwarded-For names',
    parse: cidrList,
    default: [] as string[],
  },
  authCacheTtlMs: {
    flag: 'auth-cache-ttl',
    env: 'MTLS_AUTH_CACHE_TTL',
    description: 'gateway mode: how long a TokenReview or SubjectAccessReview answer is reused',
    parse: durationMs,
    default: 10_000,
    show: formatDuration,
  },
  logLevel: {
    flag: 'log-level',
    env: 'MTLS_LOG_LEVEL',
    description: 'error, warn, info or debug',
    parse: oneOf('error', 'warn', 'info', 'debug'),
    default: 'info' as const,
  },
};

/** The parsed configuration of `mtls-sidecar`. */
export type SidecarConfig = OptionValues<typeof sidecarOptionTable>;

/** What the command line asked for: run with a configuration, or print the help text. */
export type SidecarInvocation =
  { help: true; text: string } | { help: false; config: SidecarConfig };

/**
 * Reads the sidecar's configuration from flags and environment, and checks that exactly one
 * certificate source is configured well enough to start.
 */
export function loadSidecarConfig(
  argv: readonly string[] = process.argv.slice(2),
  env: Readonly<Record<string, string | undefined>> = process.env,
): SidecarInvocation {
  if (argv.includes('--help') || argv.includes('-h')) {
    return {
      help: true,
      text: `Usage: mtls-sidecar [options]\n\n${describeOptions(sidecarOptionTable)}`,
    };
  }

  const config = parseOptions(sidecarOptionTable, argv, env);
  if (config.listenAddress === '') {
    config.listenAddress = config.mode === 'gateway' ? '0.0.0.0' : '127.0.0.1';
  }

  if (config.configFile === '' && config.vaultAddr === '') {
    throw new ConfigError(
      '--vault-addr or --config-file is required: where certificates come from',
    );
  }
  if (config.mode === 'gateway' && config.configFile !== '') {
    throw new ConfigError('--mode gateway reads every namespace from Vault: drop --config-file');
  }
  if (config.configFile !== '' && config.vaultAddr !== '') {
    throw new ConfigError(
      '--vault-addr (VAULT_ADDR) and --config-file (MTLS_CONFIG_FILE) name two certificate ' +
        'sources: give one of them',
    );
  }
  if (config.configFile === '' && config.vaultToken === '' && config.vaultRole === '') {
    throw new ConfigError('--vault-role or --vault-token is required to log into Vault');
  }
  if (config.rateLimitStore === 'redis' && config.redisUrl === '') {
    throw new ConfigError('--redis-url is required with --rate-limit-store redis');
  }
  return { help: false, config };
}
