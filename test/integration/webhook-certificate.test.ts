import { X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import { eventualValue } from './eventually';
import { readGroundEnv } from './ground';
import { applyCrds, runOperator } from './operator-harness';
import { podBody, podReview, postReview, servedSerial, WebhookGround } from './webhook-harness';
import { freePort } from '../fixtures/free-port';

// The webhook's certificate against the real apiserver: kept in a real Secret that replicas
// share, its CA patched into a real MutatingWebhookConfiguration, renewed and rotated while the
// apiserver keeps calling the webhook.

const ground = new WebhookGround('webhook-cert');

beforeAll(() => ground.setUp());

afterAll(() => ground.close());

describe('the webhook certificate over its life', () => {
  it('gives replicas that start together one shared certificate', async () => {
    const shared = { webhookConfigName: `${ground.run}-absent`, webhookSecretName: 'shared-tls' };
    const replicas = await Promise.all([
      ground.webhookOnLoopback(shared),
      ground.webhookOnLoopback(shared),
    ]);
    try {
      const data = (await ground.secretData('shared-tls'))!;
      const serial = new X509Certificate(data['tls.crt']).serialNumber;
      for (const { config } of replicas) {
        expect(await servedSerial(config.webhookPort)).toBe(serial);
      }
    } finally {
      await Promise.all(replicas.map(({ webhook }) => webhook.stop()));
    }
  });

  it('renews the serving certificate and rotates the CA while pods are admitted', async () => {
    const namespace = `${ground.run}-renewal`;
    const configName = `${ground.run}-renewal`;
    const secretName = 'renewal-tls';
    await ground.createNamespace(namespace, {
      'mtls-webhook-test': `${ground.run}-renewal`,
      'mtls.io/inject': 'enabled',
    });
    // Lifetimes in seconds instead of days: the serving certificate is renewed every few
    // seconds, and the CA is rotated once, then its predecessor expires.
    const { webhook, url, config } = await ground.webhookOnLoopback(
      { webhookConfigName: configName, webhookSecretName: secretName },
      { servingValidityMs: 6000, caValidityMs: 30_000, backdateMs: 0, propagationDelayMs: 1500 },
    );
    try {
      await ground.createWebhookConfiguration(configName, url, `${ground.run}-renewal`);
      await eventualValue(() => ground.caBundleOf(configName), 'the caBundle to be patched in');
      await eventualValue(
        () => ground.createPod(namespace, podBody({ generateName: 'probe-' })),
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
        const pod = await ground.createPod(namespace, podBody({ generateName: 'during-' }));
        expect(pod.metadata.annotations?.['mtls.io/injected']).toBe('true');

        servedSerials.add(await servedSerial(config.webhookPort));
        data = (await ground.secretData(secretName))!;
        bundle = (await ground.caBundleOf(configName))!;
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
      await ground.deleteWebhookConfiguration(configName);
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
      operatorNamespace: ground.operatorNamespace,
      webhookSecretName: 'operator-tls',
      webhookConfigName: `${ground.run}-absent`,
    });
    try {
      const ca = (await ground.secretData('operator-tls'))!['ca.crt'];
      const pod = podBody({ generateName: 'direct-', labels: { 'mtls.io/inject': 'enabled' } });
      const answer = await postReview(url, ca, podReview('via-operator', 'anywhere', pod));
      expect(answer.response).toMatchObject({ uid: 'via-operator', allowed: true });
      expect(answer.response?.patch).toBeDefined();

      const metrics = await fetch(`http://127.0.0.1:${operator.probePort}/metrics`);
      expect(await metrics.text()).toContain(
        'mtls_operator_webhook_admissions_total{result="injected"} 1',
      );

      // Ready means able to serve admission: the webhook listens, and Vault is not asked.
      const readiness = await eventualValue(async () => {
        const readyz = await fetch(`http://127.0.0.1:${operator.probePort}/readyz`);
        return readyz.status === 200 ? readyz.text() : undefined;
      }, 'the operator to be ready');
      expect(readiness).toBe('[+]informers ok\n[+]webhook ok\nreadyz check passed\n');
    } finally {
      await operator.stop();
    }
  });
});
