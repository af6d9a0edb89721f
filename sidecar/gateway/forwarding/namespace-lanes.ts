import { ErrorCode } from '../../../core/errors/codes';
import type { Logger } from '../../../core/log/logger';
import type { SidecarMetrics } from '../../admin/sidecar-metrics';
import { ProxyServer } from '../../proxy/proxy-server';
import type { UnmappedPolicy } from '../../proxy/route-planner';
import type { CertificateSnapshot } from '../../source/certificate-source';
import { VaultCertificateSource, type VaultSourceOptions } from '../../source/vault-source';
import { GatewayError } from '../gateway-error';
import { SERVICE_LABEL } from '../api/mapping-entity';

/** What the lanes are built from. */
export type NamespaceLanesOptions = {
  /** Vault options of every namespace's source; the namespace and log are set per source. */
  vault: Omit<VaultSourceOptions, 'namespace' | 'log' | 'onError'>;
  unmapped: UnmappedPolicy;
  upstreamTimeoutMs: number;
  /** How long closing a lane waits for its requests in flight. */
  shutdownTimeoutMs?: number;
  extraCaPem?: string;
  log: Logger;
  metrics: SidecarMetrics;
  /** A namespace or lane unused this long is closed. */
  idleMs?: number;
  maxNamespaces?: number;
  maxLanesPerNamespace?: number;
};

type Lane = { proxy: ProxyServer; usedAt: number };

type NamespaceEntry = {
  source: VaultCertificateSource;
  started: Promise<void>;
  lastError?: string;
  lanes: Map<string, Lane>;
  usedAt: number;
};

// A per-source rate that never refuses: the gateway limits each source address once, in front.
const UNLIMITED = Number.MAX_SAFE_INTEGER;

/**
 * The gateway's proxies: one certificate source per namespace, loaded from Vault on first use
 * and kept fresh as a sidecar keeps its own, and one lane (a ProxyServer) per namespace and
 * calling service, since a mapping's selector applies through the service name. Lanes of a
 * namespace share its snapshots; each has its own connection pools, so certificates of equal
 * names in two namespaces never share a connection. Idle lanes and namespaces are closed, and
 * the least recently used go first beyond the limits.
 */
export class NamespaceLanes {
  private readonly namespaces = new Map<string, NamespaceEntry>();
  private readonly expiries = new Map<string, number | undefined>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly idleMs: number;

  constructor(private readonly options: NamespaceLanesOptions) {
    this.idleMs = options.idleMs ?? 10 * 60_000;
    this.sweeper = setInterval(() => this.sweep(), Math.max(1_000, this.idleMs / 4));
    this.sweeper.unref();
  }

  /** The lane of a namespace and service, loading the namespace first; 503 until it loads. */
  async laneFor(namespace: string, service: string): Promise<ProxyServer> {
    let entry = this.namespaces.get(namespace);
    if (entry) this.namespaces.delete(namespace);
    entry ??= this.open(namespace);
    this.namespaces.set(namespace, entry);
    entry.usedAt = Date.now();
    this.limit(this.namespaces, this.options.maxNamespaces ?? 500, (name, evicted) =>
      this.closeNamespace(name, evicted),
    );

    await entry.started;
    const snapshot = entry.source.current();
    if (!snapshot) {
      const why = entry.lastError ? `: ${entry.lastError}` : '';
      throw new GatewayError(
        503,
        ErrorCode.ProxyNotReady,
        `the certificates of namespace ${namespace} could not be read from Vault yet${why}`,
      );
    }

    let lane = entry.lanes.get(service);
    if (lane) entry.lanes.delete(service);
    lane ??= { proxy: this.openLane(namespace, service, snapshot), usedAt: 0 };
    lane.usedAt = Date.now();
    entry.lanes.set(service, lane);
    this.limit(entry.lanes, this.options.maxLanesPerNamespace ?? 50, (_, evicted) =>
      this.closeLane(evicted),
    );
    return lane.proxy;
  }

  /** The oldest confirmation among the loaded namespaces, for the sync-age gauge. */
  oldestSync(): number | undefined {
    const times = [...this.namespaces.values()].flatMap(
      (entry) => entry.source.current()?.syncedAt ?? [],
    );
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  /** Closes every lane (in-flight requests finish) and stops every source. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const entries = [...this.namespaces];
    this.namespaces.clear();
    await Promise.all(entries.map(([name, entry]) => this.closeNamespace(name, entry)));
  }

  private open(namespace: string): NamespaceEntry {
    const { vault, log, metrics } = this.options;
    const source = new VaultCertificateSource({
      ...vault,
      namespace,
      log: log.child({ namespace }),
      onError: () => metrics.vaultErrors.inc(),
    });
    const entry: NamespaceEntry = {
      source,
      lanes: new Map(),
      usedAt: Date.now(),
      started: Promise.resolve(),
    };
    // The source keeps retrying in the background; requests meanwhile answer 503.
    entry.started = source.start().then(
      () => (entry.lastError = undefined),
      (err: unknown) => void (entry.lastError = (err as Error).message),
    );
    source.onChange((snapshot) => {
      for (const lane of entry.lanes.values()) lane.proxy.useSnapshot(snapshot);
      this.recordExpiries(namespace, snapshot);
    });
    const first = source.current();
    if (first) this.recordExpiries(namespace, first);
    log.info('namespace opened', { namespace });
    return entry;
  }

  private openLane(namespace: string, service: string, snapshot: CertificateSnapshot) {
    const { unmapped, upstreamTimeoutMs, shutdownTimeoutMs, extraCaPem, log, metrics } =
      this.options;
    const proxy = new ProxyServer({
      namespace,
      workloadLabels: service ? { [SERVICE_LABEL]: service } : {},
      unmapped,
      rate: UNLIMITED,
      burst: UNLIMITED,
      maxRateLimitEntries: 1,
      upstreamTimeoutMs,
      shutdownTimeoutMs,
      extraCaPem,
      log: log.child({ namespace, service }),
      metrics,
    });
    proxy.useSnapshot(snapshot);
    return proxy;
  }

  private sweep(): void {
    const idleSince = Date.now() - this.idleMs;
    for (const [name, entry] of this.namespaces) {
      for (const [service, lane] of entry.lanes) {
        if (lane.usedAt >= idleSince) continue;
        entry.lanes.delete(service);
        void this.closeLane(lane);
      }
      if (entry.lanes.size === 0 && entry.usedAt < idleSince) {
        this.namespaces.delete(name);
        void this.closeNamespace(name, entry);
      }
    }
  }

  private limit<T>(map: Map<string, T>, max: number, close: (key: string, value: T) => unknown) {
    while (map.size > max) {
      const [key, value] = map.entries().next().value as [string, T];
      map.delete(key);
      close(key, value);
    }
  }

  private async closeLane(lane: Lane): Promise<void> {
    await lane.proxy.close().catch((err: unknown) => {
      this.options.log.warn('gateway lane close failed', { err });
    });
  }

  private async closeNamespace(namespace: string, entry: NamespaceEntry): Promise<void> {
    for (const key of [...this.expiries.keys()]) {
      if (key.startsWith(`${namespace}/`)) this.expiries.delete(key);
    }
    this.options.metrics.setCertificateExpiries(this.expiries);
    await Promise.all([...entry.lanes.values()].map((lane) => this.closeLane(lane)));
    await entry.source.stop();
    this.options.log.info('namespace closed', { namespace });
  }

  private recordExpiries(namespace: string, snapshot: CertificateSnapshot): void {
    for (const key of [...this.expiries.keys()]) {
      if (key.startsWith(`${namespace}/`)) this.expiries.delete(key);
    }
    for (const [name, certificate] of snapshot.certificates) {
      this.expiries.set(`${namespace}/${name}`, certificate.notAfterSeconds);
    }
    this.options.metrics.setCertificateExpiries(this.expiries);
  }
}
