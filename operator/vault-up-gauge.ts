import { Gauge, type Registry } from 'prom-client';

/**
 * Registers `mtls_operator_vault_up`: 1 when Vault answers a ping made as /metrics is scraped,
 * 0 when it does not. Vault reachability is shown here and on each certificate's status
 * (VaultUnavailable), not in /readyz: the webhook the readiness gates never calls Vault.
 */
export function registerVaultUpGauge(registry: Registry, ping: () => Promise<void>): Gauge {
  return new Gauge({
    name: 'mtls_operator_vault_up',
    help: 'Whether Vault answered a ping when the metrics were read (1) or not (0).',
    registers: [registry],
    async collect() {
      try {
        await ping();
        this.set(1);
      } catch {
        this.set(0);
      }
    },
  });
}
