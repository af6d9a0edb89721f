import { applyJsonPatch } from '../../test/fixtures/json-patch-apply';
import { planInjection, type InjectionDecision } from './inject-pod';
import { DEFAULT_INJECTION_CONFIG, parseInjectionConfig } from './injection-config';
import type { Container, Pod } from './pod-spec';

const config = DEFAULT_INJECTION_CONFIG;
const enabled = { 'mtls.io/inject': 'enabled' };

function pod(
  overrides: { labels?: Record<string, string>; annotations?: Record<string, string> } = {},
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'shop-', namespace: 'payments', ...overrides },
    spec: { containers: [{ name: 'app', image: 'shop:1' }] },
  };
}

function injected(decision: InjectionDecision, before: Pod): Pod {
  if (decision.action !== 'inject')
    throw new Error(`expected an injection, got ${decision.action}`);
  return applyJsonPatch(before, decision.patch);
}

function named(containers: Container[] | undefined, name: string): Container {
  const found = containers?.find((container) => container.name === name);
  if (!found) throw new Error(`no container ${name}`);
  return found;
}

describe('who is injected', () => {
  it.each([
    ['pod label enabled', { labels: enabled }, {}, 'inject'],
    ['namespace label enabled', {}, enabled, 'inject'],
    [
      'pod disabled in an enabled namespace',
      { labels: { 'mtls.io/inject': 'disabled' } },
      enabled,
      'skip',
    ],
    ['no label anywhere', {}, {}, 'skip'],
    ['another value on the pod', { labels: { 'mtls.io/inject': 'yes' } }, {}, 'reject'],
    ['another value on the namespace', { labels: enabled }, { 'mtls.io/inject': 'on' }, 'reject'],
    [
      'the namespace disabled, the pod enabled',
      { labels: enabled },
      { 'mtls.io/inject': 'disabled' },
      'inject',
    ],
  ])('%s', (_title, metadata, namespaceLabels, action) => {
    expect(planInjection(pod(metadata), namespaceLabels, config).action).toBe(action);
  });

  it('leaves a pod that has the sidecar already as it is', () => {
    const once = injected(
      planInjection(pod({ labels: enabled }), {}, config),
      pod({ labels: enabled }),
    );
    expect(planInjection(once, enabled, config)).toEqual({
      action: 'skip',
      reason: 'already-injected',
    });
  });
});

describe('what an injected pod gets (iptables mode)', () => {
  const before: Pod = {
    metadata: { generateName: 'shop-', labels: { app: 'shop', ...enabled } },
    spec: {
      initContainers: [{ name: 'migrate', image: 'shop:1' }],
      containers: [{ name: 'app', image: 'shop:1' }],
      volumes: [{ name: 'data', emptyDir: {} }],
    },
  };
  const after = injected(planInjection(before, {}, config), before);
  const sidecar = named(after.spec?.initContainers, 'mtls-sidecar');

  it('puts the egress init container, then the native sidecar, before its own', () => {
    expect(after.spec?.initContainers?.map((c) => c.name)).toEqual([
      'mtls-egress-init',
      'mtls-sidecar',
      'migrate',
    ]);
    expect(sidecar.restartPolicy).toBe('Always');
    expect(after.spec?.containers).toEqual(before.spec?.containers);
  });

  it('runs the sidecar as the proxy UID without privileges, with the token mounted', () => {
    expect(sidecar.image).toBe(config.sidecar.image);
    expect(sidecar.securityContext).toEqual({
      runAsUser: 1337,
      runAsGroup: 1337,
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(sidecar.command).toEqual(
      expect.arrayContaining(['mtls-sidecar', '--mode', 'sidecar', '--token-file']),
    );
    const command = sidecar.command as string[];
    const flag = (name: string) => command[command.indexOf(name) + 1];
    expect(flag('--token-file')).toBe('/var/run/secrets/mtls.io/vault/token');
    expect(flag('--vault-addr')).toBe('https://vault.vault.svc:8200');
    expect(flag('--refresh-interval')).toBe('5m');
    expect(flag('--rate')).toBe('10');
    expect(sidecar.env).toEqual([
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'MTLS_POD_LABELS', value: 'app=shop,mtls.io/inject=enabled' },
    ]);
    expect(sidecar.volumeMounts).toEqual([
      { name: 'mtls-vault-token', mountPath: '/var/run/secrets/mtls.io/vault', readOnly: true },
    ]);
    expect(sidecar.resources).toEqual(config.sidecar.resources);
  });

  it('gives the egress init container the ports and the capabilities iptables needs', () => {
    const init = named(after.spec?.initContainers, 'mtls-egress-init');
    expect(init.command).toEqual([
      'mtls-egress-init',
      '--proxy-port',
      '15001',
      '--proxy-uid',
      '1337',
      '--egress-ports',
      '80',
      '--excluded-cidrs',
      '10.96.0.0/12,10.244.0.0/16',
      '--iptables',
      'iptables',
    ]);
    expect(init.securityContext).toEqual({
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('adds the projected token volume and the marker annotation', () => {
    expect(after.spec?.volumes).toEqual([
      { name: 'data', emptyDir: {} },
      {
        name: 'mtls-vault-token',
        projected: {
          sources: [
            { serviceAccountToken: { audience: 'vault', expirationSeconds: 3600, path: 'token' } },
          ],
        },
      },
    ]);
    expect(after.metadata?.annotations).toEqual({ 'mtls.io/injected': 'true' });
  });

  it('creates the lists and maps a bare pod lacks, and keeps annotations it has', () => {
    const bare: Pod = {
      metadata: { annotations: { 'mtls.io/egress-ports': '80,8080' } },
      spec: { containers: [{ name: 'app' }] },
    };
    const result = injected(planInjection(bare, enabled, config), bare);
    expect(result.spec?.initContainers?.map((c) => c.name)).toEqual([
      'mtls-egress-init',
      'mtls-sidecar',
    ]);
    expect(result.spec?.volumes?.map((v) => v.name)).toEqual(['mtls-vault-token']);
    expect(result.metadata?.annotations).toEqual({
      'mtls.io/egress-ports': '80,8080',
      'mtls.io/injected': 'true',
    });
    expect(named(result.spec?.initContainers, 'mtls-egress-init').command).toContain('80,8080');
  });

  it("passes the pod's own excluded CIDRs to mtls-egress-init, or none when it lists none", () => {
    const commandFor = (cidrs: string) => {
      const own = pod({ labels: enabled, annotations: { 'mtls.io/egress-excluded-cidrs': cidrs } });
      const result = injected(planInjection(own, {}, config), own);
      return named(result.spec?.initContainers, 'mtls-egress-init').command as string[];
    };

    expect(commandFor('10.0.0.0/16, 192.168.7.1').slice(-4, -2)).toEqual([
      '--excluded-cidrs',
      '10.0.0.0/16,192.168.7.1/32',
    ]);
    expect(commandFor('')).not.toContain('--excluded-cidrs');
  });
});

describe('proxy-env mode', () => {
  const before: Pod = {
    metadata: { labels: enabled, annotations: { 'mtls.io/egress': 'proxy-env' } },
    spec: {
      initContainers: [{ name: 'migrate' }],
      containers: [
        { name: 'app' },
        { name: 'own-proxy', env: [{ name: 'HTTP_PROXY', value: 'http://corporate:3128' }] },
      ],
    },
  };
  const after = injected(planInjection(before, {}, config), before);

  it('adds no init container but the sidecar', () => {
    expect(after.spec?.initContainers?.map((c) => c.name)).toEqual(['mtls-sidecar', 'migrate']);
  });

  it('points every container of the pod at the sidecar, keeping values it set itself', () => {
    const env = (containers: Container[] | undefined, name: string) =>
      Object.fromEntries((named(containers, name).env ?? []).map((v) => [v.name, v.value]));
    const proxied = {
      HTTP_PROXY: 'http://127.0.0.1:15001',
      http_proxy: 'http://127.0.0.1:15001',
      NO_PROXY: '127.0.0.1,localhost,.svc,.cluster.local',
      no_proxy: '127.0.0.1,localhost,.svc,.cluster.local',
    };
    expect(env(after.spec?.containers, 'app')).toEqual(proxied);
    expect(env(after.spec?.initContainers, 'migrate')).toEqual(proxied);
    expect(env(after.spec?.containers, 'own-proxy')).toEqual({
      ...proxied,
      HTTP_PROXY: 'http://corporate:3128',
    });
    expect(named(after.spec?.initContainers, 'mtls-sidecar').env?.map((v) => v.name)).toEqual([
      'POD_NAMESPACE',
      'MTLS_POD_LABELS',
    ]);
  });

  it('follows the injection config when it makes proxy-env the default', () => {
    const proxyEnv = parseInjectionConfig({ egress: { mode: 'proxy-env' } });
    const plain = pod({ labels: enabled });
    const result = injected(planInjection(plain, {}, proxyEnv), plain);
    expect(result.spec?.initContainers?.map((c) => c.name)).toEqual(['mtls-sidecar']);
    expect(result.spec?.containers?.[0].env?.[0]).toEqual({
      name: 'HTTP_PROXY',
      value: 'http://127.0.0.1:15001',
    });
  });
});

describe('the iptables backend', () => {
  it('runs the iptables the injection config names in mtls-egress-init', () => {
    const legacy = parseInjectionConfig({ egress: { iptables: 'iptables-legacy' } });
    const plain = pod({ labels: enabled });
    const result = injected(planInjection(plain, {}, legacy), plain);

    const command = named(result.spec?.initContainers, 'mtls-egress-init').command as string[];
    expect(command.slice(-2)).toEqual(['--iptables', 'iptables-legacy']);
  });
});

describe('proxy-env NO_PROXY', () => {
  it("takes the pod's own hosts besides loopback, which is always called directly", () => {
    const annotations = { 'mtls.io/egress': 'proxy-env', 'mtls.io/egress-no-proxy': 'db.internal' };
    const own = pod({ labels: enabled, annotations });
    const result = injected(planInjection(own, {}, config), own);

    expect(result.spec?.containers?.[0].env).toContainEqual({
      name: 'NO_PROXY',
      value: '127.0.0.1,localhost,db.internal',
    });
  });
});

describe('pods that are refused', () => {
  it('names a label mtls.io/inject that is neither enabled nor disabled', () => {
    expect(
      planInjection(pod({ labels: { 'mtls.io/inject': 'Enabled' } }), enabled, config),
    ).toEqual({
      action: 'reject',
      message: "the pod's label mtls.io/inject: 'Enabled' is not enabled or disabled",
    });
    expect(planInjection(pod({}), { 'mtls.io/inject': 'true' }, config)).toEqual({
      action: 'reject',
      message: "the namespace's label mtls.io/inject: 'true' is not enabled or disabled",
    });
  });

  it('names the bad annotation with its value and the form expected', () => {
    const decision = planInjection(
      pod({ annotations: { 'mtls.io/egress-ports': '80,x' } }),
      enabled,
      config,
    );
    expect(decision).toEqual({
      action: 'reject',
      message: "mtls.io/egress-ports: '80,x' is not a list of ports 1-65535 such as 80,8080",
    });
  });

  it('refuses iptables for a hostNetwork pod, and a clash with the names it adds', () => {
    const host: Pod = { ...pod({ labels: enabled }), spec: { hostNetwork: true, containers: [] } };
    const hostDecision = planInjection(host, {}, config);
    expect(hostDecision.action === 'reject' && hostDecision.message).toContain(
      'a pod with hostNetwork cannot use mtls.io/egress: iptables',
    );
    host.metadata!.annotations = { 'mtls.io/egress': 'proxy-env' };
    expect(planInjection(host, {}, config).action).toBe('inject');

    const clash: Pod = {
      ...pod({ labels: enabled }),
      spec: { containers: [], volumes: [{ name: 'mtls-vault-token' }] },
    };
    const clashDecision = planInjection(clash, {}, config);
    expect(clashDecision.action === 'reject' && clashDecision.message).toContain(
      'the pod already has a volume named mtls-vault-token',
    );
  });
});
