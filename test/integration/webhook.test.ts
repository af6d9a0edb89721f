import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';

import { OPERATOR_OPTIONS, type OperatorConfig } from '../../core/config/operator-config';
import { parseOptions } from '../../core/config/options';
import { CoreResources, collectionPath, objectPath } from '../../core/kube/api-paths';
import { KubeClient } from '../../core/kube/kube-client';
import { connectionFromKubeconfig } from '../../core/kube/kube-connection';
import { createLogger } from '../../core/log/logger';
import type { AdmissionReview } from '../../operator/webhook/admission-review';
import type { PkiTiming } from '../../operator/webhook/pki-plan';
import type { Container, Pod } from '../../operator/webhook/pod-spec';
import { startWebhook, type RunningWebhook } from '../../operator/webhook/start-webhook';
import { eventualValue } from './eventually';
import { readGroundEnv, uniqueName } from './ground';
import { applyCrds, runOperator } from './operator-harness';

// The webhook against the real apiserver: it keeps its certificate in a real Secret, patches the
// caBundle of a real MutatingWebhookConfiguration, and the apiserver calls it for every pod
// created in the test namespaces. Pods are stored, never run: the ground has no kubelet.

type Secret = { data?: Record<string, string>; metadata: { resourceVersion?: string } };
type WebhookConfiguration = { webhooks: { clientConfig: { caBundle?: string } }[] };
type StoredPod = Pod & { metadata: { name: string } };

const client = new KubeClient(connectionFromKubeconfig(readGroundEnv().KUBECONFIG));
const log = createLogger('webhook', process.env.MTLS_TEST_LOG_LEVEL ?? 'warn');
const configs = CoreResources.mutatingWebhookConfigurations;
const pods = { group: '', version: 'v1', plural: 'pods', kind: 'Pod' };
const run = uniqueName('webhook');
const operatorNamespace = `${run}-system`;
const folder = mkdtempSync(path.join(tmpdir(), 'mtls-webhook-'));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

async function createNamespace(name: string, labels: Record<string, string>): Promise<void> {
  await client.create(collectionPath(CoreResources.namespaces), { metadata: { name, labels } });
}

/** A webhook on a free loopback port, with the URL the apiserver calls and the test's options. */
async function webhookOnLoopback(
  options: Partial<OperatorConfig>,
  timing?: Partial<PkiTiming> & { checkIntervalMs?: number },
): Promise<{ webhook: RunningWebhook; url: string; config: OperatorConfig }> {
  const port = await freePort();
  const url = `https://127.0.0.1:${port}/mutate-pods`;
  const config: OperatorConfig = {
    ...parseOptions(OPERATOR_OPTIONS, [], { VAULT_ADDR: readGroundEnv().VAULT_ADDR }),
    webhook: 'on',
    webhookPort: port,
    webhookUrl: url,
    operatorNamespace,
    ...options,
  };
  const webhook = await startWebhook({
    client,
    config,
    log,
    timing: { checkIntervalMs: 200, ...timing },
  });
  return { webhook, url, config };
}

/** A webhook configuration for the pods of namespaces labelled `mtls-webhook-test: <group>`. */
async function createWebhookConfiguration(name: string, url: string, group: string) {
  await client.create(collectionPath(configs), {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name },
    webhooks: [
      {
        name: 'inject.mtls.io',
        clientConfig: { url },
        rules: [
          { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] },
        ],
        namespaceSelector: { matchLabels: { 'mtls-webhook-test': group } },
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        failurePolicy: 'Fail',
        timeoutSeconds: 10,
      },
    ],
  });
}

async function caBundleOf(name: string): Promise<string | undefined> {
  const config = await client.get<WebhookConfiguration>(objectPath(configs, undefined, name));
  const bundle = config?.webhooks[0].clientConfig.caBundle;
  return bundle ? Buffer.from(bundle, 'base64').toString() : undefined;
}

async function secretData(name: string): Promise<Record<string, string> | undefined> {
  const secret = await client.get<Secret>(
    objectPath(CoreResources.secrets, operatorNamespace, name),
  );
  if (!secret?.data) return undefined;
  const entries = Object.entries(secret.data);
  return Object.fromEntries(
    entries.map(([key, value]) => [key, Buffer.from(value, 'base64').toString()]),
  );
}

function podBody(metadata: Pod['metadata'], extra: Partial<NonNullable<Pod['spec']>> = {}): Pod {
  // A cluster's ServiceAccount admission names the account before webhooks run; the ground has
  // that plugin off, and a projected token is refused without an account.
  const containers = [{ name: 'app', image: 'registry.example/shop:1' }];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata,
    spec: { serviceAccountName: 'default', containers, ...extra },
  };
}

function createPod(namespace: string, pod: Pod): Promise<StoredPod> {
  return client.create<StoredPod>(collectionPath(pods, namespace), pod);
}

function container(list: Container[] | undefined, name: string): Container {
  const found = list?.find((entry) => entry.name === name);
  if (!found)
    throw new Error(`no container ${name} in ${JSON.stringify(list?.map((c) => c.name))}`);
  return found;
}

function flag(entry: Container, name: string): string {
  const command = entry.command as string[];
  return command[command.indexOf(name) + 1];
}

/** Sends an AdmissionReview to the webhook as the apiserver would, and returns its answer. */
function postReview(url: string, ca: string, review: object): Promise<AdmissionReview> {
  return new Promise((resolve, reject) => {
    const request = https.request(url, { method: 'POST', ca }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve(JSON.parse(text) as AdmissionReview));
    });
    request.on('error', reject);
    request.end(JSON.stringify(review));
  });
}

/** An AdmissionReview of a pod being created. */
function podReview(uid: string, namespace: string, pod: Pod): object {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace,
      operation: 'CREATE',
      object: pod,
    },
  };
}

/** The serial number of the certificate a TLS server presents. */
function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}

afterAll(async () => {
  rmSync(folder, { recursive: true, force: true });
  client.close();
});

beforeAll(() => createNamespace(operatorNamespace, {}));

describe('the injection webhook in front of the real apiserver', () => {
  const enabledNamespace = `${run}-enabled`;
  const plainNamespace = `${run}-plain`;
  const configName = `${run}-inject`;
  const secretName = 'inject-webhook-tls';
  let started: Awaited<ReturnType<typeof webhookOnLoopback>>;

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
      ].join('\n'),
    );
    await createNamespace(enabledNamespace, {
      'mtls-webhook-test': run,
      'mtls.io/inject': 'enabled',
    });
    await createNamespace(plainNamespace, { 'mtls-webhook-test': run });
    started = await webhookOnLoopback({
      webhookConfigName: configName,
      webhookSecretName: secretName,
      injectionConfig: injectionFile,
    });
    await createWebhookConfiguration(configName, started.url, run);

    await eventualValue(() => caBundleOf(configName), 'the caBundle to be patched in');
    // The apiserver sees the patched configuration a moment later: until then a call fails.
    const probe = await eventualValue(
      () => createPod(enabledNamespace, podBody({ generateName: 'probe-' })),
      'the apiserver to call the webhook',
    );
    expect(probe.metadata.annotations?.['mtls.io/injected']).toBe('true');
  });

  afterAll(async () => {
    await started?.webhook.stop();
    await client.delete(objectPath(configs, undefined, configName));
  });

  it('injects a pod whose own label asks for it, as the injection config says', async () => {
    const pod = await createPod(
      plainNamespace,
      podBody(
        { name: 'labelled', labels: { app: 'shop', 'mtls.io/inject': 'enabled' } },
        { initContainers: [{ name: 'migrate', image: 'registry.example/shop:1' }] },
      ),
    );
    const stored = await client.get<StoredPod>(objectPath(pods, plainNamespace, 'labelled'));
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
    const pod = await createPod(
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
    const unlabelled = await createPod(plainNamespace, podBody({ name: 'unlabelled' }));
    const optedOut = await createPod(
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
    const refused = await createPod(
      enabledNamespace,
      podBody({ name: 'bad-ports', annotations: { 'mtls.io/egress-ports': '80,x' } }),
    ).catch((err: Error) => err);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toContain('admission webhook "inject.mtls.io" denied');
    expect((refused as Error).message).toContain(
      "mtls.io/egress-ports: '80,x' is not a list of ports 1-65535",
    );
    expect(await client.get(objectPath(pods, enabledNamespace, 'bad-ports'))).toBeUndefined();
  });

  it('in proxy-env mode sets the proxy variables and adds no init container', async () => {
    const pod = await createPod(
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
      NO_PROXY: '127.0.0.1,localhost',
      no_proxy: '127.0.0.1,localhost',
    });
    expect(env('worker')).toMatchObject({
      HTTP_PROXY: 'http://127.0.0.1:15001',
      NO_PROXY: 'internal.example',
    });
  });

  it('changes nothing on a second pass over an injected pod', async () => {
    const labels = { 'mtls.io/inject': 'enabled' };
    const stored = await createPod(plainNamespace, podBody({ name: 'twice', labels }));
    expect(container(stored.spec?.initContainers, 'mtls-sidecar')).toBeDefined();
    const ca = (await secretData(secretName))!['ca.crt'];

    const answer = await postReview(started.url, ca, podReview('again', plainNamespace, stored));
    expect(answer.response).toEqual({ uid: 'again', allowed: true });
  });

  it('keeps its CA and serving certificate in the Secret, and serves that one', async () => {
    const data = (await secretData(secretName))!;
    expect(Object.keys(data).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    expect(await caBundleOf(configName)).toBe(data['ca.crt']);

    const certificate = new X509Certificate(data['tls.crt']);
    expect(await servedSerial(started.config.webhookPort)).toBe(certificate.serialNumber);
    expect(certificate.subjectAltName).toContain(
      `DNS:mtls-operator-webhook.${operatorNamespace}.svc`,
    );
    expect(certificate.subjectAltName).toContain('IP Address:127.0.0.1');
  });

  it('writes a deleted Secret back with the same CA, and pods keep being injected', async () => {
    const before = (await secretData(secretName))!;
    await client.delete(objectPath(CoreResources.secrets, operatorNamespace, secretName));

    const after = await eventualValue(() => secretData(secretName), 'the Secret to come back');
    expect(after['ca.crt']).toBe(before['ca.crt']);
    expect(after['tls.crt']).toBe(before['tls.crt']);
    const pod = await createPod(enabledNamespace, podBody({ generateName: 'after-delete-' }));
    expect(pod.metadata.annotations?.['mtls.io/injected']).toBe('true');
  });
});

describe('the webhook certificate over its life', () => {
  it('gives replicas that start together one shared certificate', async () => {
    const shared = { webhookConfigName: `${run}-absent`, webhookSecretName: 'shared-tls' };
    const replicas = await Promise.all([webhookOnLoopback(shared), webhookOnLoopback(shared)]);
    try {
      const data = (await secretData('shared-tls'))!;
      const serial = new X509Certificate(data['tls.crt']).serialNumber;
      for (const { config } of replicas) {
        expect(await servedSerial(config.webhookPort)).toBe(serial);
      }
    } finally {
      await Promise.all(replicas.map(({ webhook }) => webhook.stop()));
    }
  });

  it('renews the serving certificate and rotates the CA while pods are admitted', async () => {
    const namespace = `${run}-renewal`;
    const configName = `${run}-renewal`;
    const secretName = 'renewal-tls';
    await createNamespace(namespace, {
      'mtls-webhook-test': `${run}-renewal`,
      'mtls.io/inject': 'enabled',
    });
    // Lifetimes in seconds instead of days: the serving certificate is renewed every few
    // seconds, and the CA is rotated once, then its predecessor expires.
    const { webhook, url, config } = await webhookOnLoopback(
      { webhookConfigName: configName, webhookSecretName: secretName },
      { servingValidityMs: 6000, caValidityMs: 30_000, backdateMs: 0, propagationDelayMs: 1500 },
    );
    try {
      await createWebhookConfiguration(configName, url, `${run}-renewal`);
      await eventualValue(() => caBundleOf(configName), 'the caBundle to be patched in');
      await eventualValue(
        () => createPod(namespace, podBody({ generateName: 'probe-' })),
        'the apiserver to call the webhook',
      );

      const servedSerials = new Set<string>();
      const issuers: string[] = [];
      const bundleSizes: number[] = [];
      const deadline = Date.now() + 120_000;
      let data: Record<string, string>;
      let bundle: string;
      do {
        // Every pod is admitted and injected at its first try, whatever the certificates do.
        const pod = await createPod(namespace, podBody({ generateName: 'during-' }));
        expect(pod.metadata.annotations?.['mtls.io/injected']).toBe('true');

        servedSerials.add(await servedSerial(config.webhookPort));
        data = (await secretData(secretName))!;
        bundle = (await caBundleOf(configName))!;
        const issuer = new X509Certificate(data['tls.crt']).issuer;
        if (issuers.at(-1) !== issuer) issuers.push(issuer);
        const size = bundle.match(/BEGIN CERTIFICATE/g)!.length;
        if (bundleSizes.at(-1) !== size) bundleSizes.push(size);
        if (Date.now() > deadline) {
          throw new Error(`no full CA rotation seen: ${JSON.stringify({ issuers, bundleSizes })}`);
        }
        await sleep(250);
      } while (bundleSizes.join() !== '1,2,1');

      // One CA, then old and new side by side, then the new one alone, which signs what is served.
      expect(issuers).toHaveLength(2);
      expect(bundle).toBe(data['ca.crt']);
      expect(new X509Certificate(bundle).subject).toBe(issuers[1]);
      expect(servedSerials.size).toBeGreaterThanOrEqual(3);
    } finally {
      await webhook.stop();
      await client.delete(objectPath(configs, undefined, configName));
    }
  }, 180_000);
});

describe('the operator with --webhook on', () => {
  it('serves the webhook beside its controllers and counts admissions in its metrics', async () => {
    applyCrds();
    const port = await freePort();
    const url = `https://127.0.0.1:${port}/mutate-pods`;
    const operator = await runOperator({
      kubeconfig: readGroundEnv().KUBECONFIG,
      webhook: 'on',
      webhookPort: port,
      webhookUrl: url,
      operatorNamespace,
      webhookSecretName: 'operator-tls',
      webhookConfigName: `${run}-absent`,
    });
    try {
      const ca = (await secretData('operator-tls'))!['ca.crt'];
      const pod = podBody({ generateName: 'direct-', labels: { 'mtls.io/inject': 'enabled' } });
      const answer = await postReview(url, ca, podReview('via-operator', 'anywhere', pod));
      expect(answer.response).toMatchObject({ uid: 'via-operator', allowed: true });
      expect(answer.response?.patch).toBeDefined();

      const metrics = await fetch(`http://127.0.0.1:${operator.probePort}/metrics`);
      expect(await metrics.text()).toContain(
        'mtls_operator_webhook_admissions_total{result="injected"} 1',
      );
    } finally {
      await operator.stop();
    }
  });
});
