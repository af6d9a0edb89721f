import os from 'node:os';

import { ConfigError, describeOptions, parseOptions, type OptionValues } from './options';
import {
  formatDuration,
  httpsUrl,
  httpUrl,
  integer,
  oneOf,
  positiveDurationMs,
  text,
} from './parsers';

/** The options of `mtls-operator`, from flags or the environment. */
export const OPERATOR_OPTIONS = {
  kubeconfig: {
    flag: 'kubeconfig',
    env: 'KUBECONFIG',
    description: 'kubeconfig file; in a pod the in-cluster config is used when this is empty',
    parse: text,
    default: '',
  },
  vaultAddress: {
    flag: 'vault-addr',
    env: 'VAULT_ADDR',
    description: 'address of Vault or OpenBao, e.g. https://vault.example:8200',
    parse: httpUrl,
  },
  vaultToken: {
    flag: 'vault-token',
    env: 'VAULT_TOKEN',
    description: 'a Vault token, for local runs; in a cluster use --vault-role instead',
    parse: text,
    default: '',
  },
  vaultRole: {
    flag: 'vault-role',
    env: 'MTLS_VAULT_ROLE',
    description: "the operator's role in Vault's Kubernetes auth method",
    parse: text,
    default: '',
  },
  vaultAuthMount: {
    flag: 'vault-auth-mount',
    env: 'MTLS_VAULT_AUTH_MOUNT',
    description: "mount path of Vault's Kubernetes auth method",
    parse: text,
    default: 'kubernetes',
  },
  vaultMount: {
    flag: 'vault-mount',
    env: 'MTLS_VAULT_MOUNT',
    description: 'mount path of the KV version 2 secrets engine',
    parse: text,
    default: 'secret',
  },
  vaultTimeoutMs: {
    flag: 'vault-timeout',
    env: 'MTLS_VAULT_TIMEOUT',
    description: 'bound on every Vault request',
    parse: positiveDurationMs,
    default: 5000,
    show: formatDuration,
  },
  adoptedRecheckMs: {
    flag: 'adopted-recheck-interval',
    env: 'MTLS_ADOPTED_RECHECK_INTERVAL',
    description:
      'how often a certificate adopted from a Vault path (spec.source.vault) is read again, ' +
      'to see a new version written there or a missing path that appeared',
    parse: positiveDurationMs,
    default: 120_000,
    show: formatDuration,
  },
  resyncMs: {
    flag: 'resync-interval',
    env: 'MTLS_RESYNC_INTERVAL',
    description:
      'how often every certificate and namespace is reconciled again, which rewrites bundles ' +
      'and indexes missing from Vault and picks up changed trusted-CA ConfigMaps',
    parse: positiveDurationMs,
    default: 600_000,
    show: formatDuration,
  },
  tokenFile: {
    flag: 'token-file',
    env: 'MTLS_TOKEN_FILE',
    description: 'ServiceAccount token used for the Vault Kubernetes login',
    parse: text,
    default: '/var/run/secrets/kubernetes.io/serviceaccount/token',
  },
  workers: {
    flag: 'workers',
    env: 'MTLS_WORKERS',
    description: 'reconciles run at once, per kind',
    parse: integer(1, 64),
    default: 4,
  },
  probePort: {
    flag: 'probe-port',
    env: 'MTLS_PROBE_PORT',
    description: 'port of /metrics, /healthz and /readyz (0 picks a free port)',
    parse: integer(0, 65535),
    default: 8080,
  },
  leaderElection: {
    flag: 'leader-election',
    env: 'MTLS_LEADER_ELECTION',
    description: 'elect a leader among replicas with a Lease (on) or act alone (off)',
    parse: oneOf('on', 'off'),
    default: 'on',
  },
  leaseNamespace: {
    flag: 'lease-namespace',
    env: 'MTLS_LEASE_NAMESPACE',
    description: 'namespace of the leader-election Lease',
    parse: text,
    default: 'default',
  },
  leaseName: {
    flag: 'lease-name',
    env: 'MTLS_LEASE_NAME',
    description: 'name of the leader-election Lease',
    parse: text,
    default: 'mtls-operator-leader',
  },
  leaseDurationMs: {
    flag: 'lease-duration',
    env: 'MTLS_LEASE_DURATION',
    description: 'how long a leader holds the Lease without renewing it',
    parse: positiveDurationMs,
    default: 15_000,
    show: formatDuration,
  },
  identity: {
    flag: 'identity',
    env: 'POD_NAME',
    description: 'this replica’s name in the Lease',
    parse: text,
    default: `${os.hostname()}-${process.pid}`,
  },
  liveValidationTimeoutMs: {
    flag: 'live-validation-timeout',
    env: 'MTLS_LIVE_VALIDATION_TIMEOUT',
    description: "bound on a mapping's live mutual-TLS handshake",
    parse: positiveDurationMs,
    default: 5000,
    show: formatDuration,
  },
  webhook: {
    flag: 'webhook',
    env: 'MTLS_WEBHOOK',
    description: 'serve the mutating admission webhook that injects the sidecar (on or off)',
    parse: oneOf('on', 'off'),
    default: 'off',
  },
  webhookPort: {
    flag: 'webhook-port',
    env: 'MTLS_WEBHOOK_PORT',
    description: 'HTTPS port of the injection webhook (0 picks a free port)',
    parse: integer(0, 65535),
    default: 9443,
  },
  webhookConfigName: {
    flag: 'webhook-config-name',
    env: 'MTLS_WEBHOOK_CONFIG_NAME',
    description: 'MutatingWebhookConfiguration whose webhooks get the caBundle',
    parse: text,
    default: 'mtls-operator',
  },
  webhookServiceName: {
    flag: 'webhook-service-name',
    env: 'MTLS_WEBHOOK_SERVICE_NAME',
    description: 'Service in front of the webhook; its DNS names go into the certificate',
    parse: text,
    default: 'mtls-operator-webhook',
  },
  webhookSecretName: {
    flag: 'webhook-secret-name',
    env: 'MTLS_WEBHOOK_SECRET_NAME',
    description: "Secret that keeps the webhook's CA and serving certificate",
    parse: text,
    default: 'mtls-operator-webhook-tls',
  },
  webhookUrl: {
    flag: 'webhook-url',
    env: 'MTLS_WEBHOOK_URL',
    description: 'for runs outside a cluster: the https URL the apiserver calls; names its host',
    parse: httpsUrl,
    default: '',
  },
  operatorNamespace: {
    flag: 'operator-namespace',
    env: 'POD_NAMESPACE',
    description: "the operator's namespace, where the webhook Secret is kept",
    parse: text,
    default: 'default',
  },
  injectionConfig: {
    flag: 'injection-config',
    env: 'MTLS_INJECTION_CONFIG',
    description: 'YAML file of what the webhook injects; empty means the built-in defaults',
    parse: text,
    default: '',
  },
  logLevel: {
    flag: 'log-level',
    env: 'MTLS_LOG_LEVEL',
    description: 'error, warn, info or debug',
    parse: oneOf('error', 'warn', 'info', 'debug'),
    default: 'info',
  },
};

/** The operator's parsed configuration. */
export type OperatorConfig = OptionValues<typeof OPERATOR_OPTIONS>;

/** Reads the operator's configuration from its arguments and the process environment. */
export function loadOperatorConfig(argv: readonly string[]): OperatorConfig {
  const config = parseOptions(OPERATOR_OPTIONS, argv, process.env);
  if (!config.vaultToken && !config.vaultRole) {
    throw new ConfigError('set --vault-token (VAULT_TOKEN) or --vault-role (MTLS_VAULT_ROLE)');
  }
  return config;
}

/** The `--help` text of the operator. */
export function operatorHelp(): string {
  const purpose = 'Reconciles MtlsCertificate and MtlsMapping resources into Vault.';
  return `Usage: mtls-operator [options]\n\n${purpose}\n\n${describeOptions(OPERATOR_OPTIONS)}\n`;
}
