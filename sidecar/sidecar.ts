import type { SidecarConfig } from '../core/config/sidecar-config';
import { createLogger, type Logger } from '../core/log/logger';
import { AdminServer } from './admin/admin-server';
import { SidecarMetrics } from './admin/sidecar-metrics';
import type { AccessLogSink } from './proxy/access-log';
import { ProxyServer } from './proxy/proxy-server';
import type { RateLimitStore } from './proxy/rate-limit-store';
import { RedisRateLimitStore } from './proxy/redis-rate-limit-store';
import { closeRedis, openRedis } from './redis/redis-connection';
import { readExtraCaFile } from './source/ca-bundle';
import type { CertificateSnapshot, CertificateSource } from './source/certificate-source';
import type * as FileSourceModule from './source/file-source';
import type * as VaultSourceModule from './source/vault-source';

/** A running sidecar: the proxy, the admin server and the certificate source behind them. */
export type Sidecar = {
  proxyPort: number;
  adminPort: number;
  proxy: ProxyServer;
  source: CertificateSource;
  metrics: SidecarMetrics;
  /**
   * Graceful stop: no new connections, in-flight requests finish (those still running at
   * --shutdown-timeout are ended), pools and source close.
   */
  close(): Promise<void>;
};

/** What createSidecar may be given besides the configuration (tests pass their own). */
export type SidecarDependencies = {
  log?: Logger;
  source?: CertificateSource;
  /** Address both servers listen on, instead of --listen-address and all interfaces. */
  listenHost?: string;
  /** Poll interval of the standalone file source. */
  filePollIntervalMs?: number;
  /** Where the access log goes; standard error when absent. */
  accessLogSink?: AccessLogSink;
};

/**
 * Builds the certificate source the configuration names: the YAML file, or Vault. Only the one
 * named is loaded: a sidecar reading Vault has no use for the YAML parser, one reading its file
 * none for the Vault client.
 */
export function createCertificateSource(
  config: SidecarConfig,
  log: Logger,
  metrics: SidecarMetrics,
  filePollIntervalMs?: number,
): CertificateSource {
  if (config.configFile !== '') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { FileCertificateSource }: typeof FileSourceModule = require('./source/file-source');
    return new FileCertificateSource({
      file: config.configFile,
      namespace: config.namespace,
      log,
      pollIntervalMs: filePollIntervalMs,
    });
  }

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { VaultCertificateSource }: typeof VaultSourceModule = require('./source/vault-source');
  return new VaultCertificateSource({
    address: config.vaultAddr,
    kvMount: config.vaultMount,
    authMount: config.vaultAuthMount,
    role: config.vaultRole,
    staticToken: config.vaultToken || undefined,
    tokenFile: config.tokenFile,
    namespace: config.namespace,
    refreshIntervalMs: config.refreshIntervalMs,
    checkIntervalMs: config.checkIntervalMs,
    requestTimeoutMs: Math.min(config.upstreamTimeoutMs, 10_000),
    log,
    onError: () => metrics.vaultErrors.inc(),
  });
}

/** The rate-limit store the configuration names; none means the proxy's own, in memory. */
export async function createRateLimitStore(
  config: SidecarConfig,
  log: Logger,
  metrics: SidecarMetrics,
): Promise<{ store?: RateLimitStore; close(): Promise<void> }> {
  if (config.rateLimitStore === 'memory') return { close: () => Promise.resolve() };

  const redis = await openRedis({ url: config.redisUrl, log });
  const store = new RedisRateLimitStore({
    redis,
    rate: config.rate,
    burst: config.burst,
    failMode: config.rateLimitFailMode,
    log,
    onStoreUnavailable: (allowed) =>
      metrics.rateLimitStoreUnavailable.inc({ decision: allowed ? 'allowed' : 'refused' }),
  });
  return { store, close: () => closeRedis(redis) };
}

/**
 * Starts a sidecar: loads the first snapshot (a failure is logged and retried by the source;
 * the proxy answers 503 and /readyz fails until one loads), then listens on both ports.
 */
export async function createSidecar(
  config: SidecarConfig,
  dependencies: SidecarDependencies = {},
): Promise<Sidecar> {
  const log = dependencies.log ?? createLogger('sidecar', config.logLevel);
  const metrics = new SidecarMetrics();
  const source =
    dependencies.source ??
    createCertificateSource(config, log, metrics, dependencies.filePollIntervalMs);

  const extraCaPem = readExtraCaFile(config.extraCaFile);
  const rateLimit = await createRateLimitStore(config, log, metrics);
  const proxy = new ProxyServer({
    namespace: config.namespace,
    workloadLabels: config.podLabels,
    unmapped: config.unmapped,
    rate: config.rate,
    burst: config.burst,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    extraCaPem,
    log,
    metrics,
    rateLimitStore: rateLimit.store,
    accessLog: config.logLevel === 'info' || config.logLevel === 'debug',
    accessLogSink: dependencies.accessLogSink,
  });

  const use = (snapshot: CertificateSnapshot): void => {
    proxy.useSnapshot(snapshot);
    const expiries = new Map(
      [...snapshot.certificates].map(([name, cert]) => [name, cert.notAfterSeconds]),
    );
    metrics.setCertificateExpiries(expiries);
    log.info('certificate snapshot in use', {
      namespace: snapshot.namespace,
      mappings: snapshot.mappings.length,
      certificates: snapshot.certificates.size,
    });
  };
  const unsubscribe = source.onChange(use);
  metrics.trackSyncAge(() => source.current()?.syncedAt);

  try {
    await source.start();
  } catch (err) {
    log.error('first certificate load failed; retrying in the background', { err });
  }
  const first = source.current();
  if (first && !proxy.ready) use(first);

  const admin = new AdminServer(metrics, () => proxy.ready);
  const proxyHost = dependencies.listenHost ?? config.listenAddress;
  const proxyPort = await proxy.listen(config.listenPort, proxyHost);
  const adminPort = await admin.listen(config.adminPort, dependencies.listenHost);
  log.info('sidecar listening', {
    proxyHost,
    proxyPort,
    adminPort,
    namespace: config.namespace,
  });

  return {
    proxyPort,
    adminPort,
    proxy,
    source,
    metrics,
    async close() {
      unsubscribe();
      await proxy.close();
      await rateLimit.close();
      await admin.close();
      await source.stop();
    },
  };
}
