import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

import type { VaultOperation } from '../core/vault/kv-client';

/**
 * The operator's own metrics beside the controllers': Vault request latency and errors, and
 * each certificate's expiry as a timestamp, so an alert can fire days before it passes.
 */
export class OperatorMetrics {
  private readonly vaultLatency: Histogram<'operation'>;
  private readonly vaultErrors: Counter<'operation' | 'code'>;
  private readonly expiry: Gauge<'namespace' | 'name'>;

  constructor(registry: Registry) {
    this.vaultLatency = new Histogram({
      name: 'mtls_operator_vault_request_duration_seconds',
      help: 'Time a Vault request took, by operation (read, write, destroy, login, ping).',
      labelNames: ['operation'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.vaultErrors = new Counter({
      name: 'mtls_operator_vault_errors_total',
      help: 'Vault requests that failed, by operation and error code.',
      labelNames: ['operation', 'code'],
      registers: [registry],
    });
    this.expiry = new Gauge({
      name: 'mtls_operator_certificate_expiry_timestamp_seconds',
      help: 'notAfter of each Ready MtlsCertificate, in seconds since the epoch.',
      labelNames: ['namespace', 'name'],
      registers: [registry],
    });
  }

  /** Records one Vault request. */
  observeVault(operation: VaultOperation, seconds: number, errorCode?: string): void {
    this.vaultLatency.observe({ operation }, seconds);
    if (errorCode) this.vaultErrors.inc({ operation, code: errorCode });
  }

  /** Sets or clears a certificate's expiry. */
  setExpiry(namespace: string, name: string, notAfter: Date | undefined): void {
    if (notAfter) this.expiry.set({ namespace, name }, notAfter.getTime() / 1000);
    else this.expiry.remove({ namespace, name });
  }
}
