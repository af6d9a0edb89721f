import yaml from 'js-yaml';

import { parseOptions } from '../../core/config/options';
import { sidecarOptionTable } from '../../core/config/sidecar-config';
import { parseInjectionConfig } from '../../operator/webhook/injection-config';
import {
  APP_VERSION,
  CI_VALUES,
  ciValuesFile,
  expectedInjection,
  helm,
  CHART_DIR,
  injectionOf,
  only,
  renderChart,
  valuesWith,
  type Manifest,
} from './helm';

// The chart with each values file of its ci folder, and with values it must refuse.

function render(ciValues: string): Manifest[] {
  return renderChart({ valueFiles: [ciValuesFile(ciValues)] });
}

describe('the chart with the gateway on', () => {
  const name = 'mtls-operator-gateway';
  let objects: Manifest[];
  beforeAll(() => (objects = render('gateway')));

  it('runs mtls-sidecar in gateway mode with flags the sidecar accepts', () => {
    const container = only(objects, 'Deployment', name).spec.template.spec.containers[0];
    expect(container.command).toEqual(['mtls-sidecar', '--mode', 'gateway']);
    expect(container.image).toBe(`ghcr.io/mtls-operator/mtls-sidecar:${APP_VERSION}`);

    const argv = [...container.command.slice(1), ...container.args];
    // The environment as the kubelet fills it: the pod's namespace, and the URL from the Secret.
    expect(container.env).toContainEqual({
      name: 'MTLS_REDIS_URL',
      valueFrom: { secretKeyRef: { name: 'gateway-redis', key: 'url' } },
    });
    const env = { POD_NAMESPACE: 'mtls-system', MTLS_REDIS_URL: 'redis://redis.mtls-system:6379' };
    const config = parseOptions(sidecarOptionTable, argv, env);

    expect(config).toMatchObject({
      mode: 'gateway',
      listenPort: 15001,
      adminPort: 15020,
      vaultAddr: 'https://vault.vault.svc:8200',
      vaultRole: 'shared-gateway',
      vaultAuthMount: 'kubernetes',
      vaultMount: 'secret',
      tokenFile: '/var/run/secrets/mtls.io/vault/token',
      refreshIntervalMs: 300_000,
      checkIntervalMs: 10_000,
      rate: 50,
      burst: 100,
      unmapped: 'passthrough',
      upstreamTimeoutMs: 10_000,
      trustedProxies: ['10.0.0.0/8', 'fd00::/8'],
      oauthExternalUrl: 'https://gw.example',
      rateLimitStore: 'redis',
      redisUrl: 'redis://redis.mtls-system:6379',
      rateLimitFailMode: 'closed',
    });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true });
    expect(only(objects, 'Deployment', name).spec.template.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1337,
    });
  });

  it('scales on CPU between the values bounds, the autoscaler owning the replica count', () => {
    const autoscaler = only(objects, 'HorizontalPodAutoscaler', name);
    expect(autoscaler.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: 3,
      maxReplicas: 12,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } },
        },
      ],
    });
    expect(only(objects, 'Deployment', name).spec.replicas).toBeUndefined();
    expect(only(objects, 'Service', name).spec.ports).toEqual([
      { name: 'proxy', port: 80, targetPort: 'proxy', protocol: 'TCP' },
      { name: 'admin', port: 15020, targetPort: 'admin', protocol: 'TCP' },
    ]);
  });

  it('reviews callers cluster-wide and writes for them only in the self-serve namespaces', () => {
    expect(only(objects, 'ClusterRole', `${name}-reviews`).rules).toEqual([
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      {
        apiGroups: ['authorization.k8s.io'],
        resources: ['subjectaccessreviews'],
        verbs: ['create'],
      },
    ]);
    expect(only(objects, 'ClusterRole', `${name}-self-serve`).rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'update', 'delete'] },
      {
        apiGroups: ['mtls.io'],
        resources: ['mtlscertificates', 'mtlsmappings'],
        verbs: ['get', 'list', 'create', 'update', 'patch', 'delete'],
      },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
    ]);
    expect(only(objects, 'Role', `${name}-consumers`)).toMatchObject({
      metadata: { namespace: 'mtls-system' },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] }],
    });
    const bindings = objects.filter(
      (o) => o.kind.endsWith('Binding') && o.metadata.name === `${name}-self-serve`,
    );
    expect(bindings.map((b) => [b.kind, b.metadata.namespace])).toEqual([
      ['RoleBinding', 'team-a'],
      ['RoleBinding', 'team-b'],
    ]);
    const subject = { kind: 'ServiceAccount', name, namespace: 'mtls-system' };
    expect(bindings[0].subjects).toEqual([subject]);
    expect(only(objects, 'ClusterRoleBinding', `${name}-reviews`).subjects).toEqual([subject]);
  });
});

describe('the chart with NetworkPolicies and ServiceMonitors', () => {
  let objects: Manifest[];
  beforeAll(() => (objects = render('network-policy')));

  it('admits webhook calls from anywhere and metrics scrapes from the values peers', () => {
    const monitoring = [
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    ];
    expect(only(objects, 'NetworkPolicy', 'mtls-operator').spec.ingress).toEqual([
      { ports: [{ port: 'webhook', protocol: 'TCP' }] },
      { ports: [{ port: 'metrics', protocol: 'TCP' }], from: monitoring },
    ]);
    expect(only(objects, 'NetworkPolicy', 'mtls-operator-gateway').spec.ingress).toEqual([
      {
        ports: [{ port: 'proxy', protocol: 'TCP' }],
        from: [{ namespaceSelector: { matchLabels: { 'mtls.io/gateway': 'allowed' } } }],
      },
      { ports: [{ port: 'admin', protocol: 'TCP' }], from: monitoring },
    ]);
  });

  it('scrapes the operator and the gateway every 15s, labelled for Prometheus', () => {
    const monitors = objects.filter((o) => o.kind === 'ServiceMonitor');
    expect(monitors.map((m) => [m.metadata.name, m.spec.endpoints])).toEqual([
      ['mtls-operator', [{ port: 'metrics', path: '/metrics', interval: '15s' }]],
      ['mtls-operator-gateway', [{ port: 'admin', path: '/metrics', interval: '15s' }]],
    ]);
    expect(monitors.every((m) => m.metadata.labels?.release === 'prometheus')).toBe(true);
  });

  it('runs a fixed number of gateway replicas when autoscaling is off', () => {
    expect(only(objects, 'Deployment', 'mtls-operator-gateway').spec.replicas).toBe(3);
    expect(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')).toEqual([]);
  });
});

describe('the chart with failurePolicy Ignore', () => {
  it('lets pods be created without a sidecar when the webhook cannot be called', () => {
    const configuration = only(render('ignore-failures'), 'MutatingWebhookConfiguration');

    for (const webhook of configuration.webhooks) {
      expect(webhook).toMatchObject({ failurePolicy: 'Ignore', timeoutSeconds: 5 });
      expect(webhook.namespaceSelector.matchExpressions[1]).toEqual({
        key: 'kubernetes.io/metadata.name',
        operator: 'NotIn',
        values: ['mtls-system', 'kube-system', 'kube-public', 'monitoring'],
      });
    }
  });
});

describe('the namespaces never injected', () => {
  const excludedBy = (objects: Manifest[]) =>
    only(objects, 'MutatingWebhookConfiguration').webhooks.map(
      (webhook: { namespaceSelector: { matchExpressions: unknown[] } }) =>
        webhook.namespaceSelector.matchExpressions[1],
    );

  it.each([
    ['webhook.excludedNamespaces={monitoring}', ['shop-mesh', 'kube-system', 'monitoring']],
    ['webhook.excludedNamespaces=null', ['shop-mesh', 'kube-system']],
    ['webhook.excludedNamespaces={kube-system,shop-mesh}', ['shop-mesh', 'kube-system']],
  ])('always include kube-system and the release namespace with --set %s', (set, values) => {
    const objects = renderChart({ namespace: 'shop-mesh', set: [set] });

    expect(excludedBy(objects)).toEqual([
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values },
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values },
    ]);
  });
});

describe('the injection file of every values file', () => {
  // The operator reads this file at start and exits on anything it refuses: a values file the
  // chart accepts but the operator refuses is a crash loop after a successful install.
  it.each([['(defaults)'], ...CI_VALUES.map((name) => [name])])(
    'is accepted by the operator with %s values',
    (name) => {
      const objects = renderChart({
        valueFiles: name === '(defaults)' ? [] : [ciValuesFile(name)],
      });
      const configMap = objects.find((o) => o.metadata.name.endsWith('-injection'));
      const document = yaml.load(configMap!.data['injection.yaml']);

      expect(parseInjectionConfig(document)).toEqual(document);
    },
  );
});

describe('the egress values', () => {
  it('reach the operator: the iptables backend, the excluded CIDRs and NO_PROXY hosts', () => {
    const set = [
      'egress.iptables=iptables-nft',
      'egress.excludedCidrs={10.43.0.0/16}',
      'egress.noProxy={.svc,db.internal}',
    ];
    const injection = parseInjectionConfig(injectionOf(renderChart({ set })));

    expect(injection.egress).toEqual({
      mode: 'iptables',
      ports: [80],
      iptables: 'iptables-nft',
      excludedCidrs: ['10.43.0.0/16'],
      noProxy: ['.svc', 'db.internal'],
    });
  });
});

describe('the chart with proxy-env egress and other sidecar settings', () => {
  it('renders the injection file equal to the values', () => {
    const injection = injectionOf(render('proxy-env'));

    expect(injection).toEqual(expectedInjection(valuesWith('proxy-env')));
    expect(injection).toMatchObject({
      sidecar: { image: 'registry.example/mtls/sidecar:0.1.0-rc.1', rateLimit: 2.5 },
      egress: { mode: 'proxy-env', ports: [80, 8080] },
      vault: { address: 'http://openbao.vault:8200', tokenAudience: 'openbao' },
    });
  });
});

describe('the chart with an existing ServiceAccount and custom resources', () => {
  let objects: Manifest[];
  beforeAll(() => (objects = render('custom-resources')));

  it('binds the roles to that ServiceAccount and creates none', () => {
    const pod = only(objects, 'Deployment', 'mtls').spec.template.spec;
    expect(pod.serviceAccountName).toBe('platform-mtls');
    expect(objects.filter((o) => o.kind === 'ServiceAccount')).toEqual([]);
    for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
      expect(only(objects, kind, 'mtls').subjects[0].name).toBe('platform-mtls');
    }
  });

  it('takes replicas, image, resources and scheduling from the values', () => {
    const values = valuesWith('custom-resources');
    const operator = values.operator as Record<string, unknown>;
    const deployment = only(objects, 'Deployment', 'mtls');
    const pod = deployment.spec.template.spec;

    expect(deployment.spec.replicas).toBe(3);
    expect(pod.containers[0]).toMatchObject({
      image: 'registry.example/mtls/operator:0.1.0-rc.1',
      resources: operator.resources,
    });
    expect(pod.containers[0].args).toEqual(
      expect.arrayContaining(['--workers=8', '--log-level=debug', '--vault-timeout=10s']),
    );
    expect(pod).toMatchObject({
      affinity: operator.affinity,
      nodeSelector: operator.nodeSelector,
      tolerations: operator.tolerations,
      priorityClassName: 'system-cluster-critical',
      imagePullSecrets: [{ name: 'registry-credentials' }],
    });
    expect(deployment.spec.template.metadata.labels).toMatchObject({ team: 'platform' });
    expect(objects.filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);
  });

  it('names the webhook objects after fullnameOverride, in the flags and the RBAC alike', () => {
    const args: string[] = only(objects, 'Deployment', 'mtls').spec.template.spec.containers[0]
      .args;
    expect(args).toEqual(
      expect.arrayContaining([
        '--webhook-config-name=mtls',
        '--webhook-service-name=mtls-webhook',
        '--webhook-secret-name=mtls-webhook-tls',
        '--lease-name=mtls-leader',
        '--injection-config=/etc/mtls-operator/injection.yaml',
      ]),
    );
    expect(only(objects, 'MutatingWebhookConfiguration', 'mtls').webhooks[0].clientConfig).toEqual({
      service: { name: 'mtls-webhook', namespace: 'mtls-system', path: '/mutate-pods', port: 443 },
    });
    const roleNames = only(objects, 'Role', 'mtls').rules.flatMap(
      (r: { resourceNames?: string[] }) => r.resourceNames ?? [],
    );
    expect(roleNames).toEqual(['mtls-leader', 'mtls-webhook-tls']);
    expect(only(objects, 'Service', 'mtls-webhook').spec.ports[0].port).toBe(443);
    expect(only(objects, 'ConfigMap', 'mtls-injection').data['injection.yaml']).toBeDefined();
  });
});

describe('values the chart refuses', () => {
  it.each([
    ['webhook.failurePolicy=Sometimes', "at '/webhook/failurePolicy'", "'Fail', 'Ignore'"],
    ['sidecar.rateLimit=-1', "at '/sidecar/rateLimit'", 'exclusiveMinimum'],
    ['gateway.rateLimit=0', "at '/gateway/rateLimit'", 'exclusiveMinimum'],
    ['egress.mode=tproxy', "at '/egress/mode'", "'iptables', 'proxy-env'"],
    ['egress.ports={80,70000}', "at '/egress/ports/1'", 'maximum'],
    ['sidecar.checkInterval=10', "at '/sidecar/checkInterval'", 'want string'],
    ['sidecar.refreshInterval=5min', "at '/sidecar/refreshInterval'", 'does not match'],
    ['sidecar.unmapped=allow', "at '/sidecar/unmapped'", "'deny', 'passthrough'"],
    ['vault.address=vault:8200', "at '/vault/address'", 'does not match pattern'],
    ['vault.role=', "at '/vault/role'", 'minLength'],
    ['sidecar.resources.limits.memory=lots', "at '/sidecar/resources/limits/memory'", 'lots'],
    ['operator.replicas=0', "at '/operator/replicas'", 'minimum'],
    ['webhook.timeoutSeconds=60', "at '/webhook/timeoutSeconds'", 'maximum'],
    ['operator.replica=3', "at '/operator'", "additional properties 'replica'"],
    ['sidecar.adminPort=15001', 'sidecar.proxyPort and sidecar.adminPort', 'must differ'],
    ['webhook.port=8080', 'webhook.port must not be 8080', '/metrics'],
    [
      'egress.ports={80,15001}',
      'egress.ports must not include sidecar.proxyPort (15001)',
      'mtls-egress-init refuses it',
    ],
    [
      'sidecar.proxyPort=8080,egress.ports={8080}',
      'egress.ports must not include sidecar.proxyPort (8080)',
      'redirected into the proxy itself',
    ],
    [
      'gateway.enabled=true,gateway.autoscaling.minReplicas=11',
      'gateway.autoscaling.maxReplicas (10)',
      'minReplicas (11)',
    ],
    ['serviceAccount.create=false', 'serviceAccount.name is required', 'create is false'],
    [
      'gateway.enabled=true,gateway.redis.enabled=true',
      'gateway.redis.urlSecret.name is required',
      'redis.enabled is true',
    ],
    [
      'gateway.enabled=true',
      'the gateway runs 2 replicas or more without gateway.redis',
      'gateway.allowPerReplicaLimits=true',
    ],
    [
      'gateway.enabled=true,gateway.autoscaling.enabled=false,gateway.replicas=3',
      'the gateway runs 3 replicas or more without gateway.redis',
      'a nonce can be replayed to another replica',
    ],
    ['gateway.redis.failMode=ajar', "at '/gateway/redis/failMode'", "'open', 'closed'"],
    ['egress.iptables=nft', "at '/egress/iptables'", "'iptables', 'iptables-nft'"],
    ['egress.excludedCidrs={fd00::/8}', "at '/egress/excludedCidrs/0'", 'does not match'],
    ['sidecar.checkInterval=0s', "at '/sidecar/checkInterval'", "'0s' does not match"],
    ['sidecar.refreshInterval=0ms', "at '/sidecar/refreshInterval'", "'0ms' does not match"],
    [
      'sidecar.resources.limits.ephemeral-storage=1Gi',
      "at '/sidecar/resources/limits'",
      "additional properties 'ephemeral-storage' not allowed",
    ],
    [
      'sidecar.resources.requests.memory=256Mi',
      'sidecar.resources.requests.memory (256Mi) is over sidecar.resources.limits.memory (128Mi)',
      'the operator refuses to start',
    ],
    [
      'sidecar.resources.requests.cpu=1,sidecar.resources.limits.cpu=500m',
      'sidecar.resources.requests.cpu (1) is over sidecar.resources.limits.cpu (500m)',
      'the apiserver refuses such a pod',
    ],
  ])('--set %s fails helm template, naming the value', (set, where, what) => {
    const result = helm('template', 'mtls-operator', CHART_DIR, '--set', set);

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(where);
    expect(result.stderr).toContain(what);
  });
});

describe('the disruption budgets', () => {
  it('leaves out a budget that would block every drain of a single replica', () => {
    const single = renderChart({
      set: ['operator.replicas=1', 'gateway.enabled=true', 'gateway.autoscaling.minReplicas=1'],
    });
    expect(single.filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);

    const scaled = renderChart({
      set: ['gateway.enabled=true', 'gateway.redis.enabled=true', 'gateway.redis.urlSecret.name=r'],
    });
    expect(
      scaled
        .filter((o) => o.kind === 'PodDisruptionBudget')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['mtls-operator', 'mtls-operator-gateway']);
  });
});
