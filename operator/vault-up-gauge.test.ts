import { Registry } from 'prom-client';

import { registerVaultUpGauge } from './vault-up-gauge';

describe('registerVaultUpGauge', () => {
  it('is 1 while the ping succeeds and 0 while it fails, read afresh at each scrape', async () => {
    const registry = new Registry();
    let reachable = true;
    registerVaultUpGauge(registry, async () => {
      if (!reachable) throw new Error('connection refused');
    });
    const value = async () =>
      (await registry.getSingleMetric('mtls_operator_vault_up')!.get()).values[0].value;

    expect(await value()).toBe(1);
    reachable = false;
    expect(await value()).toBe(0);
    expect(await registry.metrics()).toContain('mtls_operator_vault_up 0');
    reachable = true;
    expect(await registry.metrics()).toContain('mtls_operator_vault_up 1');
  });
});
