import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { freePort } from '../fixtures/free-port';
import { eventualValue } from './eventually';
import {
  container,
  flag,
  podBody,
  podReview,
  postReview,
  servedSerial,
  WebhookGround,
  type LoopbackWebhook,
} from './webhook-harness';

// The injection webhook against the real apiserver: the apiserver calls it for every pod created
// in the test namespaces, and the test reads what it stored. Pods are stored, never run: the
// ground has no kubelet.

const ground = new WebhookGround('webhook');
const folder = mkdtempSync(path.join(tmpdir(), 'mtls-webhook-'));

beforeAll(() => ground.setUp());

afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
  ground.close();
});

describe('the injection webhook in front of the real apiserver', () => {
  const enabledNamespace = `${ground.run}-enabled`;
  const plainNamespace = `${ground.run}-plain`;
  const configName = `${ground.run}-inject`;
  const secretName = 'inject-webhook-tls';
  let started: LoopbackWebhook;

  beforeAll(async () => {
    const injectionFile = path.join(folder, 'injection.yaml');
    writeFileSync(
      injectionFile,
      [
        'sidecar:',
        '  image: registry.example/mtls-sidecar:test',
        '  resources: { requests: { cpu: 25m, memory: 32Mi }, limits: { memory: 96Mi } }',
        '  refreshInterval: 2m',
        'vault:',
        '  address: http://vault.example:8200',
        '  tokenAudience: openbao',
        'egress:',
        '  ports: [80, 8080]',
        '  excludedCidrs: [10.43.0.0/16, 10.42.0.0/16]',
        '  iptables: iptables-legacy',
      ].join('\n'),
    );
    await ground.createNamespace(enabledNamespace, {
      'mtls-webhook-test': ground.run,
      'mtls.io/inject': 'enabled',
    });
    await ground.createNamespace(plainNamespace, { 'mtls-webhook-test': ground.run });
    started = await ground.webhookOnLoopback({
      webhookConfigName: configName,
      webhookSecretName: secretName,
      injectionConfig: injectionFile,
    });
    await ground.createWebhookConfiguration(configName, started.url, ground.run);

    await eventualValue(() => ground.caBundleOf(configName), 'the caBundle to be patched in');
    // The apiserver sees the patched configuration a moment later: until then a call fails.
    const probe = await eventualValue(
      () => ground.createPod(enabledNamespace, podBody({ generateName: 'probe-' })),
      'the apiserver to call the webhook',
    );
    expect(probe.metadata.annotations?.['mtls.io/injected']).toBe('true');
  });

  afterAll(async () => {
    await started?.webhook.stop();
    await ground.deleteWebhookConfiguration(configName);
  });

  it('injects a pod whose own label asks for it, as the injection config says', async () => {
    const pod = await ground.createPod(
      plainNamespace,
      podBody(
        { name: 'labelled', labels: { app: 'shop', 'mtls.io/inject': 'enabled' } },
        { initContainers: [{ name: 'migrate', image: 'registry.example/shop:1' }] },
      ),
    );
    const stored = await ground.getPod(plainNamespace, 'labelled');
    expect(stored).toEqual(pod);

    const spec = stored!.spec!;
    expect(spec.initContainers?.map((c) => c.name)).toEqual([
      'mtls-egress-init',
      'mtls-sidecar',
      'migrate',
    ]);
    const sidecar = container(spec.initContainers, 'mtls-sidecar');
    expect(sidecar.restartPolicy).toBe('Always');
    expect(sidecar.image).toBe('registry.example/mtls-sidecar:test');
    expect(sidecar.resources).toEqual({
      requests: { cpu: '25m', memory: '32Mi' },
      limits: { memory: '96Mi' },
    });
    expect(flag(sidecar, '--vault-addr')).toBe('http://vault.example:8200');
    expect(flag(sidecar, '--refresh-interval')).toBe('2m');
    expect(sidecar.env).toContainEqual({
      name: 'MTLS_POD_LABELS',
      value: 'app=shop,mtls.io/inject=enabled',
    });
    expect(sidecar.securityContext).toMatchObject({ runAsUser: 1337, runAsNonRoot: true });

    const egress = container(spec.initContainers, 'mtls-egress-init');
    expect(flag(egress, '--egress-ports')).toBe('80,8080');
    expect(flag(egress, '--excluded-cidrs')).toBe('10.43.0.0/16,10.42.0.0/16');
    expect(flag(egress, '--iptables')).toBe('iptables-legacy');
    expect(egress.securityContext).toMatchObject({
      runAsUser: 0,
      capabilities: { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] },
    });
    expect(spec.volumes).toContainEqual({
      name: 'mtls-vault-token',
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { audience: 'openbao', expirationSeconds: 3600, path: 'token' } },
        ],
      },
    });
    expect(spec.containers?.map((c) => c.name)).toEqual(['app']);
    expect(stored!.metadata.annotations).toEqual({ 'mtls.io/injected': 'true' });
  });

  it('injects a generateName pod of a labelled namespace, with its overrides', async () => {
    const pod = await ground.createPod(
      enabledNamespace,
      podBody({
        generateName: 'shop-',
        annotations: {
          'mtls.io/egress-ports': '80,8443',
          'mtls.io/sidecar-cpu-request': '100m',
          'mtls.io/sidecar-memory-limit': '256Mi',
          'mtls.io/check-interval': '30s',
          'mtls.io/rate-limit': '50',
        },
      }),
    );
    expect(pod.metadata.name).toMatch(/^shop-/);
    const sidecar = container(pod.spec?.initContainers, 'mtls-sidecar');
    expect(sidecar.resources).toEqual({
      requests: { cpu: '100m', memory: '32Mi' },
      limits: { memory: '256Mi' },
    });
    expect(flag(sidecar, '--check-interval')).toBe('30s');
    expect(flag(sidecar, '--rate')).toBe('50');
    const egress = container(pod.spec?.initContainers, 'mtls-egress-init');
    expect(flag(egress, '--egress-ports')).toBe('80,8443');
    expect(pod.metadata.annotations?.['mtls.io/injected']).toBe('true');
  });

  it('leaves an unlabelled pod and a pod that opts out as they were', async () => {
    const unlabelled = await ground.createPod(plainNamespace, podBody({ name: 'unlabelled' }));
    const optedOut = await ground.createPod(
      enabledNamespace,
      podBody({ name: 'opted-out', labels: { 'mtls.io/inject': 'disabled' } }),
    );
    for (const pod of [unlabelled, optedOut]) {
      expect(pod.spec?.initContainers).toBeUndefined();
      expect(pod.spec?.volumes).toBeUndefined();
      expect(pod.metadata.annotations).toBeUndefined();
    }
  });

  it('rejects a pod with a bad annotation, and the user reads why', async () => {
    const refused = await ground
      .createPod(
        enabledNamespace,
        podBody({ name: 'bad-ports', annotations: { 'mtls.io/egress-ports': '80,x' } }),
      )
      .catch((err: Error) => err);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toContain('admission webhook "inject.mtls.io" denied');
    expect((refused as Error).message).toContain(
      "mtls.io/egress-ports: '80,x' is not a list of ports 1-65535",
    );
    expect(await ground.getPod(enabledNamespace, 'bad-ports')).toBeUndefined();
  });

  it('rejects a misspelt mtls.io/ annotation and a label value it does not know', async () => {
    const refusal = (name: string, metadata: Parameters<typeof podBody>[0]) =>
      ground
        .createPod(enabledNamespace, podBody({ ...metadata, name }))
        .then(() => 'created')
        .catch((err: Error) => err.message);

    const misspelt = await refusal('misspelt', { annotations: { 'mtls.io/egress-port': '8080' } });
    expect(misspelt).toContain('admission webhook "inject.mtls.io" denied');
    expect(misspelt).toContain(
      'mtls.io/egress-port is not an annotation of mtls-operator; known: mtls.io/egress, ' +
        'mtls.io/egress-ports,',
    );

    const label = await refusal('label-yes', { labels: { 'mtls.io/inject': 'yes' } });
    expect(label).toContain("the pod's label mtls.io/inject: 'yes' is not enabled or disabled");
    expect(await ground.getPod(enabledNamespace, 'misspelt')).toBeUndefined();
    expect(await ground.getPod(enabledNamespace, 'label-yes')).toBeUndefined();
  });

  it('in proxy-env mode sets the proxy variables and adds no init container', async () => {
    const pod = await ground.createPod(
      enabledNamespace,
      podBody(
        { name: 'proxied', annotations: { 'mtls.io/egress': 'proxy-env' } },
        {
          containers: [
            { name: 'app', image: 'registry.example/shop:1' },
            {
              name: 'worker',
              image: 'registry.example/shop:1',
              env: [{ name: 'NO_PROXY', value: 'internal.example' }],
            },
          ],
        },
      ),
    );
    expect(pod.spec?.initContainers?.map((c) => c.name)).toEqual(['mtls-sidecar']);
    const env = (name: string) =>
      Object.fromEntries(
        (container(pod.spec?.containers, name).env ?? []).map((v) => [v.name, v.value]),
      );
    expect(env('app')).toEqual({
      HTTP_PROXY: 'http://127.0.0.1:15001',
      http_proxy: 'http://127.0.0.1:15001',
      NO_PROXY: '127.0.0.1,localhost,.svc,.cluster.local',
      no_proxy: '127.0.0.1,localhost,.svc,.cluster.local',
    });
    expect(env('worker')).toMatchObject({
      HTTP_PROXY: 'http://127.0.0.1:15001',
      NO_PROXY: 'internal.example',
    });
  });

  it('passes the restricted Pod Security level in proxy-env mode, not in iptables', async () => {
    const restricted = `${ground.run}-restricted`;
    await ground.createNamespace(restricted, {
      'mtls-webhook-test': ground.run,
      'mtls.io/inject': 'enabled',
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
    // The application's own container as the restricted level wants it.
    const app = {
      name: 'app',
      image: 'registry.example/shop:1',
      securityContext: {
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      },
    };
    const pod = (name: string, egress: string) =>
      podBody({ name, annotations: { 'mtls.io/egress': egress } }, { containers: [app] });

    const proxied = await ground.createPod(restricted, pod('proxied', 'proxy-env'));
    expect(proxied.spec?.initContainers?.map((c) => c.name)).toEqual(['mtls-sidecar']);

    const refused = await ground
      .createPod(restricted, pod('redirected', 'iptables'))
      .catch((err: Error) => err);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toContain('violates PodSecurity "restricted');
    expect((refused as Error).message).toContain('"mtls-egress-init"');
    expect((refused as Error).message).not.toContain('"mtls-sidecar"');
  });

  it('changes nothing on a second pass over an injected pod', async () => {
    const labels = { 'mtls.io/inject': 'enabled' };
    const stored = await ground.createPod(plainNamespace, podBody({ name: 'twice', labels }));
    expect(container(stored.spec?.initContainers, 'mtls-sidecar')).toBeDefined();
    const ca = (await ground.secretData(secretName))!['ca.crt'];

    const answer = await postReview(started.url, ca, podReview('again', plainNamespace, stored));
    expect(answer.response).toEqual({ uid: 'again', allowed: true });
  });

  it('keeps its CA and serving certificate in the Secret, and serves that one', async () => {
    const data = (await ground.secretData(secretName))!;
    expect(Object.keys(data).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    expect(await ground.caBundleOf(configName)).toBe(data['ca.crt']);

    const certificate = new X509Certificate(data['tls.crt']);
    expect(await servedSerial(started.config.webhookPort)).toBe(certificate.serialNumber);
    expect(certificate.subjectAltName).toContain(
      `DNS:mtls-operator-webhook.${ground.operatorNamespace}.svc`,
    );
    expect(certificate.subjectAltName).toContain('IP Address:127.0.0.1');
  });

  it('writes a deleted Secret back with the same CA, and pods keep being injected', async () => {
    const before = (await ground.secretData(secretName))!;
    await ground.deleteSecret(secretName);

    const after = await eventualValue(
      () => ground.secretData(secretName),
      'the Secret to come back',
    );
    expect(after['ca.crt']).toBe(before['ca.crt']);
    expect(after['tls.crt']).toBe(before['tls.crt']);
    const pod = await ground.createPod(
      enabledNamespace,
      podBody({ generateName: 'after-delete-' }),
    );
    expect(pod.metadata.annotations?.['mtls.io/injected']).toBe('true');
  });
});

describe("the chart's selectors while the webhook is down", () => {
  const enabledNamespace = `${ground.run}-down-enabled`;
  const plainNamespace = `${ground.run}-down-plain`;
  const configName = `${ground.run}-down`;

  beforeAll(async () => {
    const group = `${ground.run}-down`;
    await ground.createNamespace(enabledNamespace, {
      'mtls-webhook-test': group,
      'mtls.io/inject': 'enabled',
    });
    await ground.createNamespace(plainNamespace, { 'mtls-webhook-test': group });
    // Nothing listens there: every call the apiserver makes fails, and failurePolicy is Fail.
    const url = `https://127.0.0.1:${await freePort()}/mutate-pods`;
    await ground.createWebhookConfiguration(configName, url, group);
  });

  afterAll(() => ground.deleteWebhookConfiguration(configName));

  it('blocks only the pods that opted in, and creates the others', async () => {
    const labels = { 'mtls.io/inject': 'enabled' };
    // The apiserver sees the new configuration a moment later: until then pods pass.
    const refused = await eventualValue(
      () =>
        ground
          .createPod(plainNamespace, podBody({ generateName: 'opted-in-', labels }))
          .then(() => undefined)
          .catch((err: Error) => err),
      'the apiserver to call the absent webhook',
    );
    expect(refused.message).toContain('failed calling webhook "pod.inject.mtls.io"');
    const inEnabled = await ground
      .createPod(enabledNamespace, podBody({ name: 'namespace-opted-in' }))
      .catch((err: Error) => err);
    expect((inEnabled as Error).message).toContain('failed calling webhook "inject.mtls.io"');

    const unlabelled = await ground.createPod(plainNamespace, podBody({ name: 'unlabelled' }));
    const optedOut = await ground.createPod(
      enabledNamespace,
      podBody({ name: 'opted-out', labels: { 'mtls.io/inject': 'disabled' } }),
    );
    for (const pod of [unlabelled, optedOut]) expect(pod.metadata.annotations).toBeUndefined();
  });
});
