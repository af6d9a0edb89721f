import { OPERATOR_OPTIONS } from './operator-config';
import { parseOptions } from './options';

const base = { VAULT_ADDR: 'http://127.0.0.1:8200' };

describe('the webhook options of the operator', () => {
  it('leave the webhook off by default, with the names the chart uses', () => {
    const config = parseOptions(OPERATOR_OPTIONS, [], base);
    expect(config).toMatchObject({
      webhook: 'off',
      webhookPort: 9443,
      webhookConfigName: 'mtls-operator',
      webhookServiceName: 'mtls-operator-webhook',
      webhookSecretName: 'mtls-operator-webhook-tls',
      webhookUrl: '',
      operatorNamespace: 'default',
      injectionConfig: '',
    });
  });

  it('read the namespace of the pod and the webhook URL of a host run', () => {
    const config = parseOptions(
      OPERATOR_OPTIONS,
      ['--webhook', 'on', '--webhook-url', 'https://127.0.0.1:9443/mutate-pods'],
      { ...base, POD_NAMESPACE: 'mtls-system' },
    );
    expect(config).toMatchObject({
      webhook: 'on',
      webhookUrl: 'https://127.0.0.1:9443/mutate-pods',
      operatorNamespace: 'mtls-system',
    });
  });

  it('refuse a webhook URL the apiserver would not call', () => {
    expect(() =>
      parseOptions(OPERATOR_OPTIONS, ['--webhook-url', 'http://127.0.0.1:9443'], base),
    ).toThrow("--webhook-url is invalid: expected an https URL, got 'http://127.0.0.1:9443'");
    expect(() => parseOptions(OPERATOR_OPTIONS, ['--webhook', 'yes'], base)).toThrow(
      "--webhook is invalid: expected one of on, off, got 'yes'",
    );
  });
});

describe('the durations of the operator', () => {
  it('refuse zero, which would turn the Vault timeout off or make a recheck spin', () => {
    for (const flag of ['--vault-timeout', '--adopted-recheck-interval', '--resync-interval']) {
      expect(() => parseOptions(OPERATOR_OPTIONS, [flag, '0s'], base)).toThrow(
        `${flag} is invalid: expected a duration above zero, such as 15s, got '0s'`,
      );
    }
  });

  it('recheck adopted Vault paths every 2 minutes and resync everything every 10', () => {
    const config = parseOptions(OPERATOR_OPTIONS, ['--adopted-recheck-interval', '30s'], base);
    expect(config).toMatchObject({ adoptedRecheckMs: 30_000, resyncMs: 600_000 });
  });
});
