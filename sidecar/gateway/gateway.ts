import type { SidecarConfig } from '../../core/config/sidecar-config';
import { KubeClient } from '../../core/kube/kube-client';
import { loadKubeConnection } from '../../core/kube/kube-connection';
import { createLogger, type Logger } from '../../core/log/logger';
import { AdminServer } from '../admin/admin-server';
import { SidecarMetrics } from '../admin/sidecar-metrics';
import { readExtraCaFile } from '../source/ca-bundle';
import { VaultSession } from '../source/vault-session';
import { ApiRouter } from './api/api-router';
import { certificateRoutes } from './api/certificate-routes';
import { CertificateStore } from './api/certificate-store';
import { checkRoutes } from './api/check-routes';
import { mappingRoutes } from './api/mapping-routes';
import { MappingStore } from './api/mapping-store';
import { MappingValidator } from './api/mapping-validator';
import { p12ToolRoutes } from './api/p12-tool-routes';
import { AccessReviewer } from './auth/access-reviewer';
import { GatewayAuth } from './auth/gateway-auth';
import { KubeConsumerStore } from './auth/kube-consumer-store';
import type { OAuth1VerifierFactory } from './auth/oauth1-contract';
import { OAuth1Verifier } from './auth/oauth1-verifier';
import { TokenReviewer } from './auth/token-reviewer';
import { ClientAddress } from './client-address';
import { FORWARDING_ROUTES, ForwardingHandler } from './forwarding/forwarding-handler';
import { NamespaceLanes } from './forwarding/namespace-lanes';
import { GatewayMetrics } from './gateway-metrics';
import { GatewayServer } from './gateway-server';
import { openApiDocument } from './openapi/openapi-document';
import { openApiRoutes } from './openapi/openapi-routes';
import { openSharedState } from './shared-state';

/** A running gateway. */
export type Gateway = {
  port: number;
  adminPort: number;
  /** Method, path and operationId of every operation it serves, forwarding included. */
  routes: { method: string; path: string; operationId: string }[];
  /** The OpenAPI document it serves. */
  document: Record<string, unknown>;
  /** Graceful stop: no new connections, in-flight requests finish, sources and watches stop. */
  close(): Promise<void>;
};

/** What createGateway may be given besides the configuration. */
export type GatewayDependencies = {
  log?: Logger;
  /** Address both servers listen on, instead of --listen-address and all interfaces. */
  listenHost?: string;
  /**
   * Builds the OAuth 1.0 verifier; OAuth1Verifier over the consumer Secrets by default. `null`
   * starts the gateway without one: OAuth 1.0 is then refused with OAUTH_UNAVAILABLE.
   */
  oauth1Verifier?: OAuth1VerifierFactory | null;
};

/**
 * Starts `mtls-sidecar --mode gateway`: the API and the forwarding method for every namespace on
 * the proxy port, and the admin port. Its own Kubernetes identity reviews callers' tokens and
 * writes the objects; its Vault identity reads every namespace's certificates.
 */
export async function createGateway(
  config: SidecarConfig,
  dependencies: GatewayDependencies = {},
): Promise<Gateway> {
  const log = dependencies.log ?? createLogger('gateway', config.logLevel);
  const metrics = new SidecarMetrics();
  const gatewayMetrics = new GatewayMetrics(metrics.registry);
  const kube = new KubeClient(loadKubeConnection(config.kubeconfig));
  const extraCaPem = readExtraCaFile(config.extraCaFile);
  const requestTimeoutMs = Math.min(config.upstreamTimeoutMs, 10_000);
  const vault = {
    address: config.vaultAddr,
    kvMount: config.vaultMount,
    authMount: config.vaultAuthMount,
    role: config.vaultRole,
    staticToken: config.vaultToken || undefined,
    tokenFile: config.tokenFile,
    refreshIntervalMs: config.refreshIntervalMs,
    checkIntervalMs: config.checkIntervalMs,
    requestTimeoutMs,
  };
  const session = new VaultSession({ ...vault, log });

  const shared = await openSharedState(config, log, metrics);
  const consumers = new KubeConsumerStore({ kube, namespace: config.namespace, log });
  const verifierOf =
    dependencies.oauth1Verifier === undefined
      ? (store: KubeConsumerStore) =>
          new OAuth1Verifier({
            consumers: store,
            nonces: shared.nonces,
            externalBaseUrl: config.oauthExternalUrl ? new URL(config.oauthExternalUrl) : undefined,
          })
      : dependencies.oauth1Verifier;
  const oauth1 = verifierOf?.(consumers);
  if (oauth1) await consumers.start();
  const audiences = config.apiAudiences.split(',').map((audience) => audience.trim());
  const auth = new GatewayAuth({
    policy: config.apiAuth,
    tokens: new TokenReviewer(kube, audiences.filter(Boolean), config.authCacheTtlMs),
    access: new AccessReviewer(kube, config.authCacheTtlMs),
    oauth1,
  });

  const certificates = new CertificateStore(kube, log);
  const mappings = new MappingStore(kube);
  const validator = new MappingValidator({
    session,
    vaultMount: config.vaultMount,
    kube,
    extraCaPem,
    timeoutMs: requestTimeoutMs,
  });
  const document = openApiDocument(config.apiAuth);
  const router = new ApiRouter(
    [
      ...openApiRoutes(document),
      ...certificateRoutes(certificates),
      ...mappingRoutes({ mappings, certificates, validator, auth }),
      ...checkRoutes({ mappings, certificates, auth }),
      ...p12ToolRoutes(),
    ],
    auth,
    log,
    gatewayMetrics,
  );

  const lanes = new NamespaceLanes({
    vault: { ...vault, session },
    unmapped: config.unmapped,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    extraCaPem,
    log,
    metrics,
  });
  metrics.trackSyncAge(() => lanes.oldestSync());
  const server = new GatewayServer({
    api: router,
    forwarding: new ForwardingHandler(auth, lanes, log, gatewayMetrics),
    limiter: shared.rateLimit,
    clientAddress: new ClientAddress(config.trustedProxies),
    rate: config.rate,
    log,
    metrics,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
  });

  // Namespaces load on first use, so a started gateway is ready unless its shared store is down.
  const admin = new AdminServer(
    metrics,
    () => shared.ready(),
    'the shared rate limit (Redis) cannot be reached and --rate-limit-fail-mode is closed',
  );
  const port = await server.listen(
    config.listenPort,
    dependencies.listenHost ?? config.listenAddress,
  );
  const adminPort = await admin.listen(config.adminPort, dependencies.listenHost);
  log.info('gateway listening', { port, adminPort, namespace: config.namespace });

  return {
    port,
    adminPort,
    routes: [...router.routes, ...FORWARDING_ROUTES],
    document,
    async close() {
      await server.close();
      await lanes.close();
      await shared.close();
      await admin.close();
      consumers.stop();
      kube.close();
    },
  };
}
