import { DEFAULT_INJECTION_CONFIG } from './injection-config';
import { podSettings } from './pod-settings';

const config = DEFAULT_INJECTION_CONFIG;

describe('podSettings', () => {
  it('is the injection config when the pod has no annotations', () => {
    expect(podSettings(undefined, config)).toEqual({
      settings: {
        egressMode: 'iptables',
        egressPorts: [80],
        excludedCidrs: ['10.96.0.0/12', '10.244.0.0/16'],
        noProxy: ['.svc', '.cluster.local'],
        resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
        refreshInterval: '5m',
        checkInterval: '10s',
        rateLimit: 10,
      },
    });
  });

  it("applies every override the pod's annotations give", () => {
    const result = podSettings(
      {
        'mtls.io/egress': 'proxy-env',
        'mtls.io/egress-ports': '80, 8080',
        'mtls.io/egress-excluded-cidrs': '10.0.0.0/8',
        'mtls.io/egress-no-proxy': '.svc, db.internal',
        'mtls.io/sidecar-cpu-request': '100m',
        'mtls.io/sidecar-memory-request': '96Mi',
        'mtls.io/sidecar-cpu-limit': '1',
        'mtls.io/sidecar-memory-limit': '256Mi',
        'mtls.io/refresh-interval': '1m',
        'mtls.io/check-interval': '5s',
        'mtls.io/rate-limit': '2.5',
        'mtls.io/injected': 'true',
        'example.com/unrelated': 'ignored',
      },
      config,
    );
    expect(result).toEqual({
      settings: {
        egressMode: 'proxy-env',
        egressPorts: [80, 8080],
        excludedCidrs: ['10.0.0.0/8'],
        noProxy: ['.svc', 'db.internal'],
        resources: {
          requests: { cpu: '100m', memory: '96Mi' },
          limits: { cpu: '1', memory: '256Mi' },
        },
        refreshInterval: '1m',
        checkInterval: '5s',
        rateLimit: 2.5,
      },
    });
  });

  it('refuses an mtls.io/ annotation it does not know, naming the ones it does', () => {
    const result = podSettings(
      { 'mtls.io/egress-port': '8080', 'mtls.io/inject': 'enabled', 'mtls.io/injected': 'true' },
      config,
    );

    expect(result).toEqual({
      problems: [
        'mtls.io/egress-port is not an annotation of mtls-operator; known: mtls.io/egress, ' +
          'mtls.io/egress-ports, mtls.io/egress-excluded-cidrs, mtls.io/egress-no-proxy, ' +
          'mtls.io/sidecar-cpu-request, mtls.io/sidecar-cpu-limit, ' +
          'mtls.io/sidecar-memory-request, mtls.io/sidecar-memory-limit, ' +
          'mtls.io/refresh-interval, mtls.io/check-interval, mtls.io/rate-limit',
        "mtls.io/inject is read from the pod's labels, not its annotations",
      ],
    });
  });

  it('names the annotation, the value and the form expected of each bad value', () => {
    const result = podSettings(
      {
        'mtls.io/egress': 'tproxy',
        'mtls.io/egress-ports': '80,x',
        'mtls.io/egress-excluded-cidrs': 'fd00::/8',
        'mtls.io/egress-no-proxy': 'a b',
        'mtls.io/sidecar-cpu-request': 'lots',
        'mtls.io/sidecar-memory-limit': '1GB',
        'mtls.io/refresh-interval': '5 minutes',
        'mtls.io/check-interval': '0s',
        'mtls.io/rate-limit': 'fast',
      },
      config,
    );
    expect(result).toEqual({
      problems: [
        "mtls.io/egress: 'tproxy' is not iptables or proxy-env",
        "mtls.io/egress-ports: '80,x' is not a list of ports 1-65535 such as 80,8080",
        "mtls.io/egress-excluded-cidrs: 'fd00::/8' is not a list of IPv4 CIDRs " +
          'such as 10.96.0.0/12,10.244.0.0/16',
        "mtls.io/egress-no-proxy: 'a b' is not a list of hosts or domain suffixes " +
          'such as .svc,.cluster.local',
        "mtls.io/sidecar-cpu-request: 'lots' is not a Kubernetes quantity of cpu " +
          'such as 100m or 0.5',
        "mtls.io/sidecar-memory-limit: '1GB' is not a Kubernetes quantity of memory " +
          'such as 64Mi or 1Gi',
        "mtls.io/refresh-interval: '5 minutes' is not a duration such as 10s, 5m or 250ms",
        "mtls.io/check-interval: '0s' is not a duration such as 10s, 5m or 250ms",
        "mtls.io/rate-limit: 'fast' is not a positive number of requests per second " +
          'such as 10 or 2.5',
      ],
    });
  });

  it('refuses a request over its limit, naming the annotations that set them', () => {
    const result = podSettings({ 'mtls.io/sidecar-memory-request': '1Gi' }, config);
    expect(result).toEqual({
      problems: [
        'sidecar resources (mtls.io/sidecar-memory-request): ' +
          'the memory request 1Gi is over the memory limit 128Mi',
      ],
    });
  });

  it("refuses egress ports that include the sidecar's proxy port, which the init refuses", () => {
    const result = podSettings({ 'mtls.io/egress-ports': '80, 15001' }, config);
    expect(result).toEqual({
      problems: [
        "mtls.io/egress-ports: '80, 15001' includes 15001, the sidecar's proxy port: calls to " +
          'it would be redirected into the proxy itself, and mtls-egress-init refuses it',
      ],
    });
  });

  it('checks the egress ports against the proxy port of the injection config', () => {
    const moved = { ...config, sidecar: { ...config.sidecar, proxyPort: 16001 } };
    expect(podSettings({ 'mtls.io/egress-ports': '15001' }, moved)).toMatchObject({
      settings: { egressPorts: [15001] },
    });
    expect(podSettings({ 'mtls.io/egress-ports': '16001' }, moved)).toEqual({
      problems: [expect.stringContaining("'16001' includes 16001, the sidecar's proxy port")],
    });
  });
});
