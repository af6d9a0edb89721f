import { createHmac } from 'node:crypto';

import OAuth from 'oauth-1.0a';

import { collectionPath, objectPath } from '../../core/kube/api-paths';
import type { KubeClient } from '../../core/kube/kube-client';
import { createLogger } from '../../core/log/logger';
import { RESOURCES } from '../../core/resources/api-resources';
import type { RunningOperator } from '../../operator/operator';
import { KubeConsumerStore } from '../../sidecar/gateway/auth/kube-consumer-store';
import type { Gateway } from '../../sidecar/gateway/gateway';
import { useCorpusPki } from '../fixtures/certificate-corpus';
import { exportPkcs12, P12_PASSWORD, P12_PROTECTIONS } from '../fixtures/pkcs12-corpus';
import { eventually, eventualValue } from './eventually';
import {
  adminKube,
  ALL_RIGHTS,
  callGateway,
  createNamespace,
  serviceAccountWith,
  startGateway,
} from './gateway-harness';
import { applyCrds, runOperator } from './operator-harness';

// The configuration check in its three shapes, over mappings the real operator judged, and the
// OAuth 1.0 consumers from real Secrets, signing as a partner's client library does.

const pki = useCorpusPki();
let operator: RunningOperator;
let kube: KubeClient;
let namespace = '';
let gatewayHome = '';
let withoutVerifier: Gateway;
let byDefault: Gateway;
let open: Gateway;
let behindIngress: Gateway;

beforeAll(async () => {
  applyCrds();
  operator = await runOperator();
  kube = adminKube();
  gatewayHome = await createNamespace(kube, 'gw-check-home');
  withoutVerifier = await startGateway(['--namespace', gatewayHome], { oauth1Verifier: null });
  byDefault = await startGateway(['--namespace', gatewayHome]);
  open = await startGateway(['--namespace', gatewayHome, '--api-auth', 'check=bearer+oauth1']);
  behindIngress = await startGateway([
    '--namespace',
    gatewayHome,
    '--oauth-external-url',
    'https://gw.example',
  ]);

  namespace = await createNamespace(kube, 'gw-check');
  const { token } = await serviceAccountWith(kube, namespace, ALL_RIGHTS);
  const api = `/api/v1/accounts/${namespace}`;
  const p12 = exportPkcs12(pki.dir, pki.leaf, [pki.intermediate], P12_PROTECTIONS.modern).bytes;
  const certificate = { name: 'partner', password: P12_PASSWORD, p12: p12.toString('base64') };
  await callGateway(open, `${api}/certificates`, { token, json: certificate });
  for (const mapping of [
    { name: 'everyone', url: 'https://api.partner.example/v1/' },
    { name: 'billing', url: 'https://billing.partner.example/', serviceName: 'billing' },
  ]) {
    const json = { ...mapping, certificateName: 'partner' };
    expect((await callGateway(open, `${api}/mappings`, { token, json })).status).toBe(201);
  }
  await kube.create(collectionPath(RESOURCES.mappings, namespace), {
    apiVersion: 'mtls.io/v1alpha1',
    kind: 'MtlsMapping',
    metadata: { name: 'off' },
    spec: { url: 'https://off.partner.example/', certificateName: 'partner', enabled: false },
  });
  await eventually('the mappings are judged', async () => {
    const listed = await callGateway(open, `${api}/mappings`, { token });
    const states = listed.body.map((m: { state: string }) => m.state).sort();
    return JSON.stringify(states) === JSON.stringify(['Active', 'Active', 'Disabled']);
  });
}, 180_000);

afterAll(async () => {
  await withoutVerifier?.close();
  await byDefault?.close();
  await open?.close();
  await behindIngress?.close();
  await operator?.stop();
  kube?.close();
});

const pairs = () => [
  { namespace, service: null, url: 'https://api.partner.example/v1/accounts?id=1' },
  { namespace, url: 'https://api.partner.example/v2/' },
  { namespace, service: 'billing', url: 'https://billing.partner.example/invoices' },
  { namespace, service: 'shop', url: 'https://billing.partner.example/invoices' },
  { namespace, url: 'https://off.partner.example/' },
];

/**
 * The Authorization header of a request signed by the independent oauth-1.0a library; `at`
 * (seconds since the epoch) stands for a client whose clock is off.
 */
function signed(
  gateway: Gateway,
  path: string,
  key: string,
  secret = `${key}-secret`,
  {
    method = 'POST',
    at,
    origin = `http://127.0.0.1:${gateway.port}`,
  }: { method?: string; at?: number; origin?: string } = {},
) {
  const oauth = new OAuth({
    consumer: { key, secret },
    signature_method: 'HMAC-SHA1',
    hash_function: (base, signingKey) =>
      createHmac('sha1', signingKey).update(base).digest('base64'),
  });
  if (at !== undefined) oauth.getTimeStamp = () => at;
  const url = `${origin}${path}`;
  return { authorization: oauth.toHeader(oauth.authorize({ url, method })).Authorization };
}

/** A consumer Secret in the gateway's namespace, acting for `namespaces`. */
function consumerSecret(name: string, key: string, namespaces: string) {
  return {
    metadata: { name, labels: { 'mtls.io/oauth1-consumer': 'true' } },
    stringData: { consumerKey: key, consumerSecret: `${key}-secret`, namespaces },
  };
}

async function checker(rules = [{ resources: ['mtlsmappings'], verbs: ['list'] }]) {
  return (await serviceAccountWith(kube, namespace, rules)).token;
}

describe('the configuration check', () => {
  it('takes only OAuth 1.0 by default; without a verifier, nothing', async () => {
    const token = await checker();
    for (const path of [
      '/api/v1/configuration/check',
      '/api/v2/configuration/check',
      `/api/v1/accounts/${namespace}/configuration/check`,
    ]) {
      const bearer = await callGateway(byDefault, path, { token, json: { checks: [] } });
      expect(bearer.status).toBe(401);
      expect(bearer.body.code).toBe('AUTH_SCHEME_REFUSED');
      expect(bearer.headers.get('www-authenticate')).toBe('OAuth realm="mtls-gateway"');

      const unverifiable = await callGateway(withoutVerifier, path, {
        json: { checks: [] },
        headers: signed(withoutVerifier, path, 'shop-key'),
      });
      expect(unverifiable.status).toBe(401);
      expect(unverifiable.body.code).toBe('OAUTH_UNAVAILABLE');
    }
  });

  it('v1 answers one boolean per (namespace, service, URL)', async () => {
    const token = await checker();
    const v1 = await callGateway(open, '/api/v1/configuration/check', { token, json: pairs() });
    expect(v1.status).toBe(200);
    expect(v1.body).toEqual([true, false, true, false, false]);
  });

  it('v2 names the mapping, the certificate and their states', async () => {
    const token = await checker([
      { resources: ['mtlsmappings'], verbs: ['list'] },
      { resources: ['mtlscertificates'], verbs: ['list'] },
    ]);
    const v2 = await callGateway(open, '/api/v2/configuration/check', {
      token,
      json: { checks: pairs() },
    });
    expect(v2.status).toBe(200);
    const found = (mapping: string) => ({
      mapped: true,
      state: 'Active',
      mapping,
      certificate: 'partner',
      certificateStatus: 'Available',
      message: null,
    });
    const missing = {
      mapped: false,
      state: 'Missing',
      mapping: null,
      certificate: null,
      certificateStatus: null,
      message: expect.any(String),
    };
    const [all, other, billing, shop, off] = pairs();
    expect(v2.body.results).toEqual([
      { ...all, ...found('everyone') },
      { ...other, service: null, ...missing },
      { ...billing, ...found('billing') },
      { ...shop, ...missing },
      {
        ...off,
        service: null,
        mapped: false,
        state: 'Disabled',
        mapping: 'off',
        certificate: 'partner',
        certificateStatus: 'Available',
        message: 'spec.enabled is false',
      },
    ]);
  });

  it("leaves out the certificate's state for a caller who may not list certificates", async () => {
    const token = await checker();
    const v2 = await callGateway(open, '/api/v2/configuration/check', {
      token,
      json: { checks: pairs() },
    });
    expect(v2.status).toBe(200);
    expect(v2.body.results.map((r: { certificateStatus: unknown }) => r.certificateStatus)).toEqual(
      [null, null, null, null, null],
    );
    expect(v2.body.results[0]).toMatchObject({ mapped: true, certificate: 'partner' });
  });

  it('the account shape checks the namespace of its path', async () => {
    const token = await checker();
    const path = `/api/v1/accounts/${namespace}/configuration/check`;
    const checks = [
      { service: 'billing', url: 'https://billing.partner.example/' },
      { url: 'not a url' },
    ];
    const account = await callGateway(open, path, { token, json: { checks } });
    expect(account.status).toBe(200);
    expect(account.body).toEqual({
      namespace,
      results: [
        expect.objectContaining({ service: 'billing', mapped: true, mapping: 'billing' }),
        expect.objectContaining({ service: null, mapped: false, state: 'InvalidUrl' }),
      ],
    });

    const malformed = await callGateway(open, path, { token, json: [{ url: 'x' }] });
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('API_REQUEST_INVALID');
  });

  it('takes serviceName as well as service, as mappings are created with it', async () => {
    const token = await checker();
    const url = 'https://billing.partner.example/invoices';
    const v1 = await callGateway(open, '/api/v1/configuration/check', {
      token,
      json: [
        { namespace, serviceName: 'billing', url },
        { namespace, serviceName: 'shop', url },
      ],
    });
    expect(v1.status).toBe(200);
    expect(v1.body).toEqual([true, false]);

    const both = await callGateway(open, '/api/v1/configuration/check', {
      token,
      json: [{ namespace, service: 'billing', serviceName: 'shop', url }],
    });
    expect(both.status).toBe(400);
    expect(both.body.message).toContain('[0]: service and serviceName differ');
  });

  it("v1 takes an OAuth consumer's only namespace when an entry names none", async () => {
    const secrets = collectionPath(RESOURCES.secrets, gatewayHome);
    await kube.create(secrets, consumerSecret('single', 'single-key', namespace));
    await kube.create(secrets, consumerSecret('double', 'double-key', `other, ${namespace}`));
    const path = '/api/v1/configuration/check';
    const json = [{ url: 'https://api.partner.example/v1/x' }, { url: 'https://x.example/' }];
    const call = (key: string) =>
      callGateway(byDefault, path, { json, headers: signed(byDefault, path, key) });

    const single = await eventualValue(async () => {
      const result = await call('single-key');
      return result.status === 200 ? result : undefined;
    }, 'the single-namespace consumer to be known');
    expect(single.body).toEqual([true, false]);

    const double = await eventualValue(async () => {
      const result = await call('double-key');
      return result.status === 400 ? result : undefined;
    }, 'the two-namespace consumer to be known');
    expect(double.body.message).toBe('[0].namespace is required: the namespace (account) to check');
  });

  it('needs the right to list mappings in every namespace it names', async () => {
    const token = await checker([{ resources: ['mtlscertificates'], verbs: ['list'] }]);
    const refused = await callGateway(open, '/api/v1/configuration/check', {
      token,
      json: pairs(),
    });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain(`list mtlsmappings.mtls.io in namespace ${namespace}`);
  });

  it('takes requests signed by consumers from Secrets, limited to their namespaces', async () => {
    const secrets = collectionPath(RESOURCES.secrets, gatewayHome);
    await kube.create(secrets, consumerSecret('shop', 'shop-key', `other, ${namespace}`));
    await kube.create(secrets, consumerSecret('stranger', 'stranger-key', 'other'));
    const path = '/api/v2/configuration/check';
    const json = { checks: pairs() };
    const call = (headers: Record<string, string>) =>
      callGateway(byDefault, path, { json, headers });

    const allowed = await eventualValue(async () => {
      const result = await call(signed(byDefault, path, 'shop-key'));
      return result.status === 200 ? result : undefined;
    }, 'the consumer to be known');
    expect(allowed.body.results.map((r: { mapped: boolean }) => r.mapped)).toEqual([
      true,
      false,
      true,
      false,
      false,
    ]);

    const stranger = await call(signed(byDefault, path, 'stranger-key'));
    expect(stranger.status).toBe(403);
    expect(stranger.body.message).toContain(`may not act for namespace ${namespace}`);

    const forged = await call(signed(byDefault, path, 'shop-key', 'a guessed secret'));
    expect(forged.status).toBe(401);
    expect(forged.body.code).toBe('OAUTH_BAD_SIGNATURE');
    const once = signed(byDefault, path, 'shop-key');
    expect((await call(once)).status).toBe(200);
    const replayed = await call(once);
    expect(replayed.status).toBe(401);
    expect(replayed.body.code).toBe('OAUTH_REPLAYED_NONCE');

    await kube.delete(objectPath(RESOURCES.secrets, gatewayHome, 'shop'));
    const revoked = await eventualValue(async () => {
      const result = await call(signed(byDefault, path, 'shop-key'));
      return result.status === 401 ? result : undefined;
    }, 'the consumer to be revoked');
    expect(revoked.body.code).toBe('OAUTH_UNKNOWN_CONSUMER');
  });

  it('refuses a signature made too long ago or ahead, and on Bearer-only operations', async () => {
    const secrets = collectionPath(RESOURCES.secrets, gatewayHome);
    await kube.create(secrets, consumerSecret('clock', 'clock-key', namespace));
    const path = '/api/v2/configuration/check';
    const json = { checks: pairs() };
    const call = (headers: Record<string, string>) =>
      callGateway(byDefault, path, { json, headers });
    await eventualValue(async () => {
      const result = await call(signed(byDefault, path, 'clock-key'));
      return result.status === 200 ? result : undefined;
    }, 'the consumer to be known');

    const now = Math.floor(Date.now() / 1000);
    for (const at of [now - 3600, now - 301, now + 3600]) {
      const stale = await call(signed(byDefault, path, 'clock-key', undefined, { at }));
      expect(stale.status).toBe(401);
      expect(stale.body.code).toBe('OAUTH_STALE_TIMESTAMP');
      expect(stale.headers.get('www-authenticate')).toBe('OAuth realm="mtls-gateway"');
    }
    const withinWindow = await call(
      signed(byDefault, path, 'clock-key', undefined, { at: now - 60 }),
    );
    expect(withinWindow.status).toBe(200);

    // Certificates take Kubernetes tokens only unless --api-auth says otherwise.
    const certificates = `/api/v1/accounts/${namespace}/certificates`;
    const headers = signed(byDefault, certificates, 'clock-key', undefined, { method: 'GET' });
    const refused = await callGateway(byDefault, certificates, { headers });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('AUTH_SCHEME_REFUSED');
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="mtls-gateway"');
  });
});

describe('the OAuth 1.0 consumer store', () => {
  it('follows labelled Secrets, ignoring incomplete ones and keys claimed twice', async () => {
    const home = await createNamespace(kube, 'gw-consumers');
    const secrets = collectionPath(RESOURCES.secrets, home);
    const labelled = (name: string, data: Record<string, string>) => ({
      metadata: { name, labels: { 'mtls.io/oauth1-consumer': 'true' } },
      stringData: data,
    });
    await kube.create(secrets, labelled('one', { consumerKey: 'one', consumerSecret: 's1' }));
    await kube.create(secrets, {
      metadata: { name: 'unlabelled' },
      stringData: { consumerKey: 'unlabelled', consumerSecret: 's' },
    });
    const store = new KubeConsumerStore({
      kube,
      namespace: home,
      log: createLogger('consumers-it', 'error'),
    });
    await store.start();
    try {
      expect(await store.find('one')).toEqual({ key: 'one', secret: 's1', namespaces: [] });
      expect(await store.find('unlabelled')).toBeUndefined();

      await kube.create(secrets, labelled('incomplete', { consumerKey: 'incomplete' }));
      await kube.create(
        secrets,
        labelled('two', { consumerKey: 'two', consumerSecret: 's2', namespaces: 'a,b' }),
      );
      await eventually('the new consumer is known', async () => !!(await store.find('two')));
      expect(await store.find('two')).toEqual({ key: 'two', secret: 's2', namespaces: ['a', 'b'] });
      expect(await store.find('incomplete')).toBeUndefined();

      await kube.create(secrets, labelled('copy', { consumerKey: 'one', consumerSecret: 'x' }));
      await eventually('a key claimed twice is refused', async () => !(await store.find('one')));
      await kube.delete(objectPath(RESOURCES.secrets, home, 'copy'));
      await eventually('the key is trusted again', async () => !!(await store.find('one')));
    } finally {
      store.stop();
    }
  });

  it('checks signatures for the https origin of an ingress with --oauth-external-url', async () => {
    const secrets = collectionPath(RESOURCES.secrets, gatewayHome);
    await kube.create(secrets, consumerSecret('ingress', 'ingress-key', namespace));
    const path = '/api/v2/configuration/check?via=ingress';
    const json = { checks: pairs() };
    const origin = 'https://gw.example';
    const viaIngress = (gateway: Gateway) =>
      callGateway(gateway, path, {
        json,
        headers: signed(gateway, path, 'ingress-key', undefined, { origin }),
      });

    const accepted = await eventualValue(async () => {
      const result = await viaIngress(behindIngress);
      return result.status === 200 ? result : undefined;
    }, 'the consumer to be known behind the ingress');
    expect(accepted.body.results).toHaveLength(5);

    await eventualValue(async () => {
      const result = await viaIngress(byDefault);
      return result.body.code !== 'OAUTH_UNKNOWN_CONSUMER' ? result : undefined;
    }, 'the consumer to be known without the flag');
    const refused = await viaIngress(byDefault);
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('OAUTH_BAD_SIGNATURE');
    expect(refused.body.message).toContain(`http://127.0.0.1:${byDefault.port}/api/v2/`);

    // The origin replaces the one the gateway is addressed at; the path is still checked.
    const direct = await callGateway(behindIngress, path, {
      json,
      headers: signed(behindIngress, path, 'ingress-key'),
    });
    expect(direct.status).toBe(401);
    expect(direct.body.code).toBe('OAUTH_BAD_SIGNATURE');
    expect(direct.body.message).toContain('https://gw.example/api/v2/configuration/check');
  });
});
