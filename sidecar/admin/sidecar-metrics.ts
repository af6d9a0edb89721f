import { Counter, Gauge, Histogram, Registry } from './prom-client-parts';

type RequestLabels = { mapped: string; upstream_host: string; status_class: string };

/**
 * The sidecar's Prometheus metrics, on a registry of its own. Labels stay bounded: the upstream
 * host is a mapped host or `unmapped`, never a path or a source address.
 */
export class SidecarMetrics {
  readonly registry = new Registry();

  // Requests counted since the last scrape, added to the counter when it is read: a plain
  // increment per request instead of prom-client resolving the labels each time.
  private readonly requestTallies = new Map<string, { labels: RequestLabels; pending: number }>();

  readonly requests = new Counter({
    name: 'mtls_proxy_requests_total',
    help: 'Requests the proxy handled, by whether a mapping applied, upstream host, status class',
    labelNames: ['mapped', 'upstream_host', 'status_class'] as const,
    registers: [this.registry],
    collect: () => {
      for (const tally of this.requestTallies.values()) {
        if (tally.pending === 0) continue;
        this.requests.inc(tally.labels, tally.pending);
        tally.pending = 0;
      }
    },
  });

  readonly duration = new Histogram({
    name: 'mtls_proxy_request_duration_seconds',
    help: 'Time from receiving a request to the end of its response',
    labelNames: ['mapped'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly tlsHandshakes = new Counter({
    name: 'mtls_proxy_tls_handshakes_total',
    help: 'TLS connections opened to upstreams',
    registers: [this.registry],
  });

  readonly throttled = new Counter({
    name: 'mtls_proxy_throttled_total',
    help: 'Requests refused by the per-source rate limit',
    registers: [this.registry],
  });

  readonly rateLimitStoreUnavailable = new Counter({
    name: 'mtls_proxy_rate_limit_store_unavailable_total',
    help: 'Rate-limit decisions made without the shared store (Redis unreachable), by decision',
    labelNames: ['decision'] as const,
    registers: [this.registry],
  });

  readonly vaultErrors = new Counter({
    name: 'mtls_sidecar_vault_errors_total',
    help: 'Failed Vault calls (login, index or certificate reads)',
    registers: [this.registry],
  });

  readonly certificateExpiry = new Gauge({
    name: 'mtls_sidecar_certificate_expiry_timestamp_seconds',
    help: 'When each loaded client certificate expires, in seconds since the epoch',
    labelNames: ['certificate'] as const,
    registers: [this.registry],
  });

  private syncedAt: () => number | undefined = () => undefined;

  constructor() {
    const syncAge: Gauge = new Gauge({
      name: 'mtls_sidecar_vault_sync_age_seconds',
      help: 'Seconds since the certificate source last confirmed its data',
      registers: [this.registry],
      collect: () => {
        const at = this.syncedAt();
        if (at !== undefined) syncAge.set((Date.now() - at) / 1000);
      },
    });
  }

  /** Counts one request in `mtls_proxy_requests_total`. */
  countRequest(mapped: 'true' | 'false', host: string, statusClass: string): void {
    const key = `${mapped} ${host} ${statusClass}`;
    const tally = this.requestTallies.get(key);
    if (tally !== undefined) {
      tally.pending++;
      return;
    }
    const labels = { mapped, upstream_host: host, status_class: statusClass };
    this.requestTallies.set(key, { labels, pending: 1 });
  }

  /** Reads the time of the source's last confirmation (milliseconds since the epoch) on scrape. */
  trackSyncAge(syncedAt: () => number | undefined): void {
    this.syncedAt = syncedAt;
  }

  /** Replaces the expiry gauge with the certificates of the current snapshot. */
  setCertificateExpiries(expiries: ReadonlyMap<string, number | undefined>): void {
    this.certificateExpiry.reset();
    for (const [name, notAfter] of expiries) {
      if (notAfter !== undefined) this.certificateExpiry.set({ certificate: name }, notAfter);
    }
  }
}
