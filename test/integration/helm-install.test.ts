import * as k8s from '@kubernetes/client-node';

import { LoopbackPki } from '../fixtures/loopback-pki';
import { runOperatorAs } from './chart-operator';
import { eventualValue } from './eventually';
import { adminKubeConfig, kubectl, uniqueName } from './ground';
import { applyChart, helm, helmOk, only, readLive, serviceAccountMay, type Manifest } from './helm';
import { Resources } from './operator-harness';

// The chart installed by helm into the real apiserver: the objects exist as rendered, the
// apiserver sends to the webhook exactly the pods that opted in, the operator does its work with
// nothing but the chart's RBAC, an upgrade keeps the caBundle, and uninstall cleans up.
// There is no kubelet: the Deployments' pods never run, so nothing waits for them.

const release = uniqueName('mtls');
const namespace = uniqueName('chart');
const fullname = `${release}-mtls-operator`;
const operatorRole = uniqueName('chart-operator');
// The webhook Service has no endpoints here; a short timeout keeps refused pods quick.
const installValues = [`vault.operatorRole=${operatorRole}`, 'webhook.timeoutSeconds=3'];

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const pki = new LoopbackPki('Chart Test CA');
let rendered: Manifest[];
let installed = false;

async function createPod(podNamespace: string, labels: Record<string, string> = {}) {
  const name = uniqueName('pod');
  const containers = [{ name: 'app', image: 'registry.example/app:1' }];
  await core.createNamespacedPod({
    namespace: podNamespace,
    body: { metadata: { name, labels }, spec: { containers } },
  });
  return name;
}

/** The apiserver's message when it refused a write. */
async function refusal(write: Promise<unknown>): Promise<string> {
  try {
    await write;
  } catch (err) {
    return JSON.parse((err as { body: string }).body).message;
  }
  throw new Error('the apiserver accepted the write');
}

async function labelledNamespace(labels: Record<string, string>) {
  const name = uniqueName('pods');
  await core.createNamespace({ body: { metadata: { name, labels } } });
  return name;
}

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });

  rendered = applyChart('install', release, namespace, { set: installValues });
  installed = true;
});

afterAll(() => {
  if (installed) helm('uninstall', release, '--namespace', namespace);
  pki.dispose();
});

describe('the chart installed with helm', () => {
  it('creates every rendered object in the apiserver as rendered', async () => {
    expect(rendered.length).toBeGreaterThan(10);

    for (const object of rendered) {
      const live = readLive(object);
      expect(live).toMatchObject(object);
    }
  });

  it('sends to the webhook exactly the pods whose namespace or themselves opted in', async () => {
    const optedIn = await labelledNamespace({ 'mtls.io/inject': 'enabled' });
    const plain = await labelledNamespace({});
    await core.patchNamespace(
      { name: namespace, body: { metadata: { labels: { 'mtls.io/inject': 'enabled' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );

    expect(await refusal(createPod(optedIn))).toContain('failed calling webhook "inject.mtls.io"');
    expect(await refusal(createPod(plain, { 'mtls.io/inject': 'enabled' }))).toContain(
      'failed calling webhook "pod.inject.mtls.io"',
    );
    await expect(createPod(optedIn, { 'mtls.io/inject': 'disabled' })).resolves.toBeDefined();
    await expect(createPod(plain)).resolves.toBeDefined();
    await expect(createPod(namespace)).resolves.toBeDefined();
  });

  const webhookConfigurations = {
    group: 'admissionregistration.k8s.io',
    resource: 'mutatingwebhookconfigurations',
  };
  const leases = { group: 'coordination.k8s.io', resource: 'leases', namespace: 'RELEASE' };
  const secrets = { group: '', resource: 'secrets', namespace: 'RELEASE' };
  it.each([
    [
      'may',
      'patch its own webhook configuration',
      { ...webhookConfigurations, verb: 'patch', name: 'OWN' },
    ],
    [
      'may not',
      'patch another webhook configuration',
      { ...webhookConfigurations, verb: 'patch', name: 'x' },
    ],
    ['may', 'create its Lease', { ...leases, verb: 'create' }],
    ['may', 'renew its Lease', { ...leases, verb: 'update', name: 'OWN-leader' }],
    ['may not', 'renew another Lease', { ...leases, verb: 'update', name: 'x-leader' }],
    ['may not', 'create a Lease elsewhere', { ...leases, verb: 'create', namespace: 'default' }],
    ['may', 'create its webhook TLS Secret', { ...secrets, verb: 'create' }],
    [
      'may',
      'renew its webhook TLS Secret',
      { ...secrets, verb: 'update', name: 'OWN-webhook-tls' },
    ],
    ['may not', 'replace another Secret', { ...secrets, verb: 'update', name: 'x' }],
    ['may not', 'create a Secret elsewhere', { ...secrets, verb: 'create', namespace: 'default' }],
    ['may', 'watch Secrets everywhere', { ...secrets, verb: 'watch', namespace: '' }],
    [
      'may not',
      'delete MtlsCertificates',
      { group: 'mtls.io', resource: 'mtlscertificates', verb: 'delete' },
    ],
    [
      'may not',
      'update MtlsMappings',
      { group: 'mtls.io', resource: 'mtlsmappings', verb: 'update' },
    ],
    ['may not', 'create pods', { group: '', resource: 'pods', verb: 'create' }],
  ])('the operator ServiceAccount %s %s', async (may, _what, attributes) => {
    const own = (text = '') => text.replace('RELEASE', namespace).replace('OWN', fullname);
    const { name, namespace: where } = attributes as { name?: string; namespace?: string };
    const serviceAccount = { name: fullname, namespace };
    const allowed = await serviceAccountMay(serviceAccount, {
      ...attributes,
      namespace: own(where),
      name: own(name),
    });

    expect(allowed).toBe(may === 'may');
  });

  it('is enough for the operator to sync certificates and mappings and lead', async () => {
    const deployment = only(rendered, 'Deployment', fullname);
    const operator = await runOperatorAs({
      args: deployment.spec.template.spec.containers[0].args,
      serviceAccount: deployment.spec.template.spec.serviceAccountName,
      namespace,
      identity: 'chart-test',
    });
    const team = new Resources(uniqueName('team'));
    try {
      await team.createNamespace();
      const client = pki.client('partner-client');
      await team.putSecret(
        'partner',
        { 'tls.crt': client.certPem, 'tls.key': client.keyPem, 'ca.crt': pki.ca.certPem },
        'kubernetes.io/tls',
      );
      await core.createNamespacedConfigMap({
        namespace: team.namespace,
        body: { metadata: { name: 'partner-ca' }, data: { 'ca.crt': pki.ca.certPem } },
      });
      await team.createCertificate('partner', {
        source: { pem: { secretName: 'partner' } },
        trustedCA: { configMapName: 'partner-ca' },
      });
      await team.createMapping('partner-api', {
        url: 'https://api.partner.example/v2/',
        certificateName: 'partner',
      });

      // The test PKI's certificates last two days: within the operator's 30-day warning window.
      await team.waitForReason('certificate', 'partner', 'ExpiringSoon');
      await team.waitForReason('mapping', 'partner-api', 'Active');
      const lease = await kc
        .makeApiClient(k8s.CoordinationV1Api)
        .readNamespacedLease({ name: `${fullname}-leader`, namespace });
      expect(lease.spec?.holderIdentity).toBe('chart-test');
      const reasons = await eventualValue(async () => {
        const events = await core.listNamespacedEvent({ namespace: team.namespace });
        const seen = events.items.map((e) => e.reason);
        return seen.includes('ExpiringSoon') && seen.includes('Active') ? seen : undefined;
      }, 'events of the certificate and the mapping');
      expect(reasons).toEqual(expect.arrayContaining(['ExpiringSoon', 'Active']));

      await team.delete('mtlscertificates', 'partner');
      await eventualValue(
        async () => ((await team.certificate('partner')) ? undefined : true),
        'the certificate to be finalized and gone',
      );
    } finally {
      await operator.stop();
    }
  });

  it('keeps the caBundle the operator wrote through an upgrade and a forced replace', async () => {
    const caBundle = Buffer.from(pki.ca.certPem).toString('base64');
    const patch = [0, 1].map((i) => ({
      op: 'add',
      path: `/webhooks/${i}/clientConfig/caBundle`,
      value: caBundle,
    }));
    kubectl(
      'patch',
      'mutatingwebhookconfiguration',
      fullname,
      '--type=json',
      `-p=${JSON.stringify(patch)}`,
    );
    const webhooks = () => readLive(only(rendered, 'MutatingWebhookConfiguration'))!.webhooks;

    for (const [timeout, extra] of [
      [4, []],
      [5, ['--server-side=false', '--force-replace']],
    ] as const) {
      const set = [...installValues, `webhook.timeoutSeconds=${timeout}`];
      applyChart('upgrade', release, namespace, { set }, ...extra);

      for (const webhook of webhooks()) {
        expect(webhook).toMatchObject({ timeoutSeconds: timeout, clientConfig: { caBundle } });
      }
    }
  });

  it('removes every object but the CRDs on helm uninstall', async () => {
    helmOk('uninstall', release, '--namespace', namespace);
    installed = false;

    for (const object of rendered) {
      expect({ object: object.metadata.name, live: readLive(object) }).toEqual({
        object: object.metadata.name,
        live: undefined,
      });
    }
    const crds = kc.makeApiClient(k8s.ApiextensionsV1Api);
    for (const name of ['mtlscertificates.mtls.io', 'mtlsmappings.mtls.io']) {
      await expect(crds.readCustomResourceDefinition({ name })).resolves.toBeDefined();
    }
  });
});
