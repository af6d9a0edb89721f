import { loadEgressConfig, portList } from './egress-config';

describe('loadEgressConfig', () => {
  it('uses the documented defaults', () => {
    expect(loadEgressConfig([], {})).toEqual({
      help: false,
      config: {
        proxyPort: 15001,
        proxyUid: 1337,
        egressPorts: [80],
        excludedCidrs: [],
        iptables: 'iptables',
        logLevel: 'info',
      },
    });
  });

  it('reads the flags the webhook writes, and the environment', () => {
    const flags = ['--proxy-port', '15001', '--proxy-uid', '1337', '--egress-ports', '80,8080'];
    expect(loadEgressConfig(flags, {})).toMatchObject({ config: { egressPorts: [80, 8080] } });
    expect(
      loadEgressConfig([], { MTLS_EGRESS_PORTS: ' 80 , 81 ', MTLS_EGRESS_PROXY_UID: '0' }),
    ).toMatchObject({ config: { egressPorts: [80, 81], proxyUid: 0 } });
  });

  it('refuses ports out of range, repeated, or missing', () => {
    expect(() => loadEgressConfig(['--proxy-port', '0'], {})).toThrow(
      "--proxy-port is invalid: expected a whole number from 1 to 65535, got '0'",
    );
    expect(() => loadEgressConfig(['--egress-ports', '80,65536'], {})).toThrow(
      "--egress-ports is invalid: expected a whole number from 1 to 65535, got '65536'",
    );
    expect(() => loadEgressConfig(['--egress-ports', '80,8080,80'], {})).toThrow(
      "--egress-ports is invalid: port 80 is listed twice in '80,8080,80'",
    );
    expect(() => portList(',')).toThrow("expected ports such as 80,8080, got ','");
    expect(() => portList('http')).toThrow("expected a whole number from 1 to 65535, got 'http'");
  });

  it('reads the excluded CIDRs, refusing IPv6 ranges the IPv4 rules would never match', () => {
    const flags = ['--excluded-cidrs', '10.96.0.0/12, 10.244.0.1'];
    expect(loadEgressConfig(flags, {})).toMatchObject({
      config: { excludedCidrs: ['10.96.0.0/12', '10.244.0.1/32'] },
    });
    expect(() => loadEgressConfig(['--excluded-cidrs', 'fd00::/8'], {})).toThrow(
      "--excluded-cidrs is invalid: expected IPv4 CIDRs such as 10.96.0.0/12, got 'fd00::/8'",
    );
  });

  it('refuses a proxy port among the egress ports', () => {
    expect(() => loadEgressConfig(['--egress-ports', '80,15001'], {})).toThrow(
      '--egress-ports must not include the proxy port 15001 (--proxy-port)',
    );
  });

  it('refuses a user ID that is not a whole number', () => {
    expect(() => loadEgressConfig(['--proxy-uid', '13.5'], {})).toThrow(
      "--proxy-uid is invalid: expected a whole number from 0 to 4294967294, got '13.5'",
    );
    expect(() => loadEgressConfig(['--proxy-uid', '-1'], {})).toThrow(/--proxy-uid is invalid/);
  });

  it('prints help without needing other options', () => {
    const invocation = loadEgressConfig(['--proxy-port', 'x', '--help'], {});
    expect(invocation.help && invocation.text).toContain('Usage: mtls-egress-init [options]');
    expect(invocation.help && invocation.text).toContain(
      '--egress-ports (env MTLS_EGRESS_PORTS) [default 80]',
    );
  });
});
