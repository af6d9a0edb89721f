import { Registry } from 'prom-client';

import { OperatorMetrics } from './operator-metrics';

describe('OperatorMetrics', () => {
  it('exports a Vault login under operation="login", and its failure by code', async () => {
    const registry = new Registry();
    const metrics = new OperatorMetrics(registry);

    metrics.observeVault('login', 0.02);
    metrics.observeVault('login', 0.5, 'VAULT_LOGIN_FAILED');
    const scrape = await registry.metrics();

    expect(scrape).toContain(
      'mtls_operator_vault_request_duration_seconds_count{operation="login"} 2',
    );
    expect(scrape).toContain(
      'mtls_operator_vault_errors_total{operation="login",code="VAULT_LOGIN_FAILED"} 1',
    );
  });
});
