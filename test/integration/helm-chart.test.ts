import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import yaml from 'js-yaml';

import { OPERATOR_OPTIONS } from '../../core/config/operator-config';
import { parseOptions } from '../../core/config/options';

import {
  APP_VERSION,
  CHART_DIR,
  CI_VALUES,
  ciValuesFile,
  defaultValues,
  expectedInjection,
  helm,
  injectionOf,
  only,
  renderChart,
  type Manifest,
} from './helm';

// The chart as `helm lint` and `helm template` see it with its default values: what the rendered
// objects promise a user. helm-values.test.ts covers the other values.

const REPO = path.resolve(__dirname, '../..');

function operatorContainer(objects: Manifest[]) {
  return only(objects, 'Deployment', 'mtls-operator').spec.template.spec.containers[0];
}

describe('helm lint', () => {
  it.each(['default', ...CI_VALUES])('passes in strict mode with the %s values', (name) => {
    const files = name === 'default' ? [] : ['--values', ciValuesFile(name)];
    const result = helm('lint', '--strict', CHART_DIR, ...files);

    expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.status).toBe(0);
  });
});

describe('the operator Deployment of every values file', () => {
  it.each(['default', ...CI_VALUES])(
    'gives flags the operator accepts with the %s values',
    (name) => {
      const objects = renderChart(name === 'default' ? {} : { valueFiles: [ciValuesFile(name)] });
      // Found by its component label: a values file may rename the release's objects.
      const deployments = objects.filter(
        (object) =>
          object.kind === 'Deployment' &&
          object.metadata.labels?.['app.kubernetes.io/component'] === 'operator',
      );
      expect(deployments).toHaveLength(1);
      const container = deployments[0].spec.template.spec.containers[0];
      // The pod's downward-API variables, as the kubelet sets them from the container's env.
      const env = { POD_NAME: 'mtls-operator-0', POD_NAMESPACE: 'mtls-system' };

      const config = parseOptions(OPERATOR_OPTIONS, container.args, env);

      expect(container.env.map((variable: { name: string }) => variable.name).sort()).toEqual(
        Object.keys(env).sort(),
      );
      expect(config).toMatchObject({
        vaultRole: expect.stringMatching(/.+/),
        identity: 'mtls-operator-0',
        operatorNamespace: 'mtls-system',
        tokenFile: '/var/run/secrets/mtls.io/vault/token',
        probePort: 8080,
        injectionConfig: '/etc/mtls-operator/injection.yaml',
      });
    },
  );
});

describe('the chart with default values', () => {
  const values = defaultValues();
  let objects: Manifest[];
  let deployment: Manifest;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let pod: any, container: any;

  beforeAll(() => {
    objects = renderChart({});
    deployment = only(objects, 'Deployment', 'mtls-operator');
    pod = deployment.spec.template.spec;
    container = operatorContainer(objects);
  });

  it('runs two operator replicas with leader election, the webhook and Vault login', () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(container.args).toEqual([
      '--vault-addr=https://vault.vault.svc:8200',
      '--vault-role=mtls-operator',
      '--vault-auth-mount=kubernetes',
      '--vault-mount=secret',
      '--vault-timeout=5s',
      '--token-file=/var/run/secrets/mtls.io/vault/token',
      '--leader-election=on',
      '--lease-namespace=mtls-system',
      '--lease-name=mtls-operator-leader',
      '--lease-duration=15s',
      '--probe-port=8080',
      '--workers=4',
      '--live-validation-timeout=5s',
      '--resync-interval=10m',
      '--adopted-recheck-interval=2m',
      '--log-level=info',
      '--webhook=on',
      '--webhook-port=9443',
      '--webhook-config-name=mtls-operator',
      '--webhook-service-name=mtls-operator-webhook',
      '--webhook-secret-name=mtls-operator-webhook-tls',
      '--injection-config=/etc/mtls-operator/injection.yaml',
    ]);
    expect(container.env).toEqual([
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    ]);
    expect(container.image).toBe(`ghcr.io/mtls-operator/mtls-operator:${APP_VERSION}`);
  });

  it('logs into Vault with a projected token of audience vault', () => {
    expect(pod.volumes).toContainEqual({
      name: 'mtls-vault-token',
      projected: {
        sources: [
          { serviceAccountToken: { path: 'token', audience: 'vault', expirationSeconds: 3600 } },
        ],
      },
    });
    expect(container.volumeMounts).toContainEqual({
      name: 'mtls-vault-token',
      mountPath: '/var/run/secrets/mtls.io/vault',
      readOnly: true,
    });
  });

  it('probes /healthz and /readyz on port 8080, which also serves /metrics', () => {
    expect(container.ports).toEqual([
      { name: 'webhook', containerPort: 9443, protocol: 'TCP' },
      { name: 'metrics', containerPort: 8080, protocol: 'TCP' },
    ]);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    const metrics = only(objects, 'Service', 'mtls-operator-metrics');
    expect(metrics.spec.ports).toEqual([
      { name: 'metrics', port: 8080, targetPort: 'metrics', protocol: 'TCP' },
    ]);
  });

  it('runs the operator as non-root on a read-only root filesystem, with the resources', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.resources).toEqual(values.operator.resources);
    expect(pod.serviceAccountName).toBe('mtls-operator');
  });

  it('mounts the injection file, equal to the values, where the operator reads it', () => {
    expect(injectionOf(objects)).toEqual(expectedInjection(values));
    expect(container.volumeMounts).toContainEqual({
      name: 'injection',
      mountPath: '/etc/mtls-operator',
      readOnly: true,
    });
    expect(pod.volumes).toContainEqual({
      name: 'injection',
      configMap: { name: 'mtls-operator-injection' },
    });
  });

  it('prefers replicas on different nodes and keeps one through a voluntary disruption', () => {
    const term = pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0];
    expect(term.podAffinityTerm).toEqual({
      topologyKey: 'kubernetes.io/hostname',
      labelSelector: { matchLabels: deployment.spec.selector.matchLabels },
    });
    const budget = only(objects, 'PodDisruptionBudget', 'mtls-operator');
    expect(budget.spec).toEqual({ minAvailable: 1, selector: deployment.spec.selector });
  });

  it('serves the webhook through a Service on 443 to the container port 9443', () => {
    const service = only(objects, 'Service', 'mtls-operator-webhook');
    expect(service.spec.ports).toEqual([
      { name: 'webhook', port: 443, targetPort: 'webhook', protocol: 'TCP' },
    ]);
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
  });

  it('sends a pod to one webhook entry when its namespace or the pod opted in', () => {
    const configuration = only(objects, 'MutatingWebhookConfiguration', 'mtls-operator');
    const common = {
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      failurePolicy: 'Fail',
      timeoutSeconds: 10,
      reinvocationPolicy: 'IfNeeded',
      matchPolicy: 'Equivalent',
      clientConfig: {
        service: {
          name: 'mtls-operator-webhook',
          namespace: 'mtls-system',
          path: '/mutate-pods',
          port: 443,
        },
      },
      rules: [
        {
          apiGroups: [''],
          apiVersions: ['v1'],
          resources: ['pods'],
          operations: ['CREATE'],
          scope: 'Namespaced',
        },
      ],
    };
    const entry = (name: string, namespaceIn: string, podOperator: string, podValue: string) => ({
      name,
      ...common,
      namespaceSelector: {
        matchExpressions: [
          { key: 'mtls.io/inject', operator: namespaceIn, values: ['enabled'] },
          {
            key: 'kubernetes.io/metadata.name',
            operator: 'NotIn',
            values: ['mtls-system', 'kube-system'],
          },
        ],
      },
      objectSelector: {
        matchExpressions: [{ key: 'mtls.io/inject', operator: podOperator, values: [podValue] }],
      },
    });

    expect(configuration.webhooks).toEqual([
      entry('inject.mtls.io', 'In', 'NotIn', 'disabled'),
      entry('pod.inject.mtls.io', 'NotIn', 'In', 'enabled'),
    ]);
  });

  it('grants the operator exactly the rules its code uses, each explained', () => {
    expect(only(objects, 'ClusterRole', 'mtls-operator').rules).toEqual([
      {
        apiGroups: ['mtls.io'],
        resources: ['mtlscertificates'],
        verbs: ['get', 'list', 'watch', 'patch'],
      },
      { apiGroups: ['mtls.io'], resources: ['mtlsmappings'], verbs: ['get', 'list', 'watch'] },
      {
        apiGroups: ['mtls.io'],
        resources: ['mtlscertificates/status', 'mtlsmappings/status'],
        verbs: ['patch'],
      },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
      { apiGroups: [''], resources: ['events'], verbs: ['create'] },
      {
        apiGroups: ['admissionregistration.k8s.io'],
        resources: ['mutatingwebhookconfigurations'],
        resourceNames: ['mtls-operator'],
        verbs: ['get', 'patch'],
      },
    ]);
    expect(only(objects, 'Role', 'mtls-operator').rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: ['mtls-operator-leader'],
        verbs: ['get', 'update'],
      },
      { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      {
        apiGroups: [''],
        resources: ['secrets'],
        resourceNames: ['mtls-operator-webhook-tls'],
        verbs: ['get', 'update'],
      },
    ]);
    for (const file of ['operator-rbac.yaml', 'gateway-rbac.yaml']) {
      const lines = readFileSync(path.join(CHART_DIR, 'templates', file), 'utf8').split('\n');
      const unexplained = lines.filter(
        (line, i) => /^\s*- apiGroups:/.test(line) && !/^\s*#/.test(lines[i - 1]),
      );
      expect({ file, unexplained }).toEqual({ file, unexplained: [] });
    }
  });

  it('binds both roles to the operator ServiceAccount in the release namespace', () => {
    const subject = { kind: 'ServiceAccount', name: 'mtls-operator', namespace: 'mtls-system' };
    for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
      const binding = only(objects, kind, 'mtls-operator');
      expect(binding.subjects).toEqual([subject]);
      expect(binding.roleRef.name).toBe('mtls-operator');
    }
    expect(only(objects, 'ServiceAccount', 'mtls-operator').metadata.namespace).toBe('mtls-system');
  });

  it('installs the CRDs of crds/ unchanged', () => {
    const crdsDir = path.join(REPO, 'crds');
    const sources = readdirSync(crdsDir)
      .sort()
      .map((file) => yaml.load(readFileSync(path.join(crdsDir, file), 'utf8')));
    const rendered = renderChart({ includeCrds: true }).filter(
      (o) => o.kind === 'CustomResourceDefinition',
    );

    expect(sources).toHaveLength(2);
    expect(rendered).toEqual(sources);
  });

  it('takes its appVersion and image tags from package.json', () => {
    const chart = yaml.load(readFileSync(path.join(CHART_DIR, 'Chart.yaml'), 'utf8'));
    expect(chart).toMatchObject({ apiVersion: 'v2', version: '0.1.0', appVersion: APP_VERSION });
  });

  it('leaves the gateway, NetworkPolicies and ServiceMonitors out', () => {
    const kinds = new Set(objects.map((o) => o.kind));
    expect([...kinds].sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'Deployment',
      'MutatingWebhookConfiguration',
      'PodDisruptionBudget',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
    expect(objects.filter((o) => o.kind === 'Deployment')).toHaveLength(1);
    const outside = objects.filter(
      (o) => (o.metadata.namespace ?? 'mtls-system') !== 'mtls-system',
    );
    expect(outside).toEqual([]);
  });
});
