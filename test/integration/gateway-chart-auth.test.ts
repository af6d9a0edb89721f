import { ApiAuthPolicy } from '../../core/config/api-auth-policy';
import { parseOptions } from '../../core/config/options';
import { sidecarOptionTable } from '../../core/config/sidecar-config';
import { CHART_DIR, helm, only, renderChart } from './helm';

// The chart's gateway.apiAuth and gateway.apiAudiences, rendered by helm and read back by the
// gateway's own option parser with the environment the kubelet gives the container.

function gatewayConfig(set: string[]) {
  const objects = renderChart({
    set: ['gateway.enabled=true', 'gateway.allowPerReplicaLimits=true', ...set],
  });
  const container = only(objects, 'Deployment', 'mtls-operator-gateway').spec.template.spec
    .containers[0];
  const argv = [...container.command.slice(1), ...container.args];
  return {
    args: container.args as string[],
    config: parseOptions(sidecarOptionTable, argv, { POD_NAMESPACE: 'mtls-system' }),
  };
}

describe("the chart's gateway authentication values", () => {
  it("keeps the gateway's policy and takes only tokens for the audience mtls-gateway", () => {
    const { args, config } = gatewayConfig([]);

    expect(args.filter((arg) => arg.startsWith('--api-'))).toEqual([
      '--api-audiences=mtls-gateway',
    ]);
    expect(config.apiAuth.toString()).toBe(ApiAuthPolicy.defaults.toString());
    expect(config.apiAudiences).toBe('mtls-gateway');

    const apiserverOwn = gatewayConfig(['gateway.apiAudiences=null']);
    expect(apiserverOwn.args.filter((arg) => arg.startsWith('--api-'))).toEqual([]);
    expect(apiserverOwn.config.apiAudiences).toBe('');
  });

  it('passes the schemes of each named group and the audiences to the gateway', () => {
    const { config } = gatewayConfig([
      'gateway.apiAuth.check=bearer+oauth1',
      'gateway.apiAuth.certificates=oauth1+bearer',
      'gateway.apiAudiences={mtls-gateway,https://gateway.example:8443}',
    ]);

    expect(config.apiAuth.schemesFor('check')).toEqual(['bearer', 'oauth1']);
    expect(config.apiAuth.schemesFor('certificates')).toEqual(['oauth1', 'bearer']);
    expect(config.apiAuth.schemesFor('mappings')).toEqual(['bearer']);
    expect(config.apiAuth.schemesFor('forward')).toEqual(['bearer', 'oauth1']);
    expect(config.apiAudiences).toBe('mtls-gateway,https://gateway.example:8443');
  });

  it.each([
    ['gateway.apiAuth.chek=bearer', "at '/gateway/apiAuth'", "additional properties 'chek'"],
    ['gateway.apiAuth.check=basic', "at '/gateway/apiAuth/check'", "'basic'"],
    ['gateway.apiAudiences={a b}', "at '/gateway/apiAudiences/0'", 'does not match'],
  ])('--set %s fails helm template, naming the value', (set, where, what) => {
    const result = helm('template', 'mtls-operator', CHART_DIR, '--set', set);

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(where);
    expect(result.stderr).toContain(what);
  });
});
