import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';

import OAuth from 'oauth-1.0a';

import { collectionPath } from '../../core/kube/api-paths';
import type { KubeClient } from '../../core/kube/kube-client';
import { RESOURCES } from '../../core/resources/api-resources';
import type { RunningOperator } from '../../operator/operator';
import type { Gateway } from '../../sidecar/gateway/gateway';
import { callProxy } from '../fixtures/http-call';
import { LoopbackPki } from '../fixtures/loopback-pki';
import { MtlsUpstream, type UpstreamEcho } from '../fixtures/mtls-upstream';
import { exportPkcs12, P12_PASSWORD, P12_PROTECTIONS } from '../fixtures/pkcs12-corpus';
import { eventualValue } from './eventually';
import {
  adminKube,
  ALL_RIGHTS,
  callGateway,
  createNamespace,
  serviceAccountWith,
  startGateway,
  type ApiCall,
} from './gateway-harness';
import { uniqueName } from './ground';
import { adminVault, applyCrds, runOperator } from './operator-harness';

// The forwarding method through a gateway that serves several namespaces: it logs into the real
// OpenBao with its own ServiceAccount token, authenticates every caller with the apiserver, and
// calls a real mutual-TLS upstream with the certificate of the caller's namespace.

const pki = new LoopbackPki();
const upstream = new MtlsUpstream(pki);
let operator: RunningOperator;
let gateway: Gateway;
let gatewayStopped = false;
let kube: KubeClient;
let home = '';

/** Two namespaces, each with a certificate named `partner` of its own and a mapping. */
const tenants = { a: { namespace: '', token: '' }, b: { namespace: '', token: '' } };
let mapperToken = '';

beforeAll(async () => {
  applyCrds();
  await upstream.start();
  operator = await runOperator();
  kube = adminKube();

  // The gateway's own identity: a ServiceAccount whose Vault role reads every namespace.
  home = await createNamespace(kube, 'gw-home');
  const account = await serviceAccountWith(kube, home, [], { name: 'mtls-gateway' });
  const tokenFile = path.join(pki.dir, 'gateway-token');
  writeFileSync(tokenFile, account.token);
  const role = uniqueName('gateway');
  const vault = adminVault();
  await vault.addPolicy({
    name: role,
    rules: 'path "secret/data/mtls/*" { capabilities = ["read"] }',
  });
  await vault.write(`auth/kubernetes/role/${role}`, {
    bound_service_account_names: ['mtls-gateway'],
    bound_service_account_namespaces: [home],
    token_policies: [role],
    token_ttl: '10m',
  });
  gateway = await startGateway([
    '--namespace',
    home,
    '--vault-role',
    role,
    '--token-file',
    tokenFile,
    '--extra-ca-file',
    pki.ca.certFile,
    // A stop ends calls still in flight after 2 s, long before the upstream timeout would.
    '--shutdown-timeout',
    '2s',
    '--upstream-timeout',
    '10m',
  ]);

  // Set up as a team would, through the gateway's own API.
  for (const [key, tenant] of Object.entries(tenants)) {
    tenant.namespace = await createNamespace(kube, `gw-fwd-${key}`);
    tenant.token = (await serviceAccountWith(kube, tenant.namespace, ALL_RIGHTS)).token;
    await addCertificate(tenant.namespace, tenant.token, 'partner', `tenant-${key}`);
    await addMapping(tenant.namespace, tenant.token, {
      url: `https://localhost:${upstream.port}/`,
    });
  }
  const { namespace, token } = tenants.a;
  await addCertificate(namespace, token, 'billing-cert', 'tenant-a-billing');
  await addMapping(namespace, token, {
    url: `https://127.0.0.1:${upstream.port}/`,
    certificateName: 'billing-cert',
    serviceName: 'billing',
  });
  mapperToken = (
    await serviceAccountWith(kube, namespace, [{ resources: ['mtlsmappings'], verbs: ['list'] }])
  ).token;
}, 180_000);

afterAll(async () => {
  if (!gatewayStopped) await gateway?.close();
  await operator?.stop();
  kube?.close();
  await upstream.stop();
  pki.dispose();
});

async function addCertificate(namespace: string, token: string, name: string, cn: string) {
  const issued = pki.client(`${namespace}-${name}`, cn);
  const leaf = { name: cn, certPath: issued.certFile, keyPath: issued.keyFile, ...issued };
  const p12 = exportPkcs12(pki.dir, leaf, [], P12_PROTECTIONS.legacyRc2).bytes;
  const json = { name, password: P12_PASSWORD, p12: p12.toString('base64') };
  const path = `/api/v1/accounts/${namespace}/certificates`;
  expect((await callGateway(gateway, path, { token, json })).status).toBe(201);
}

async function addMapping(namespace: string, token: string, json: Record<string, string>) {
  const path = `/api/v1/accounts/${namespace}/mappings`;
  const created = await callGateway(gateway, path, {
    token,
    json: { certificateName: 'partner', ...json },
  });
  expect(created.status).toBe(201);
  await eventualValue(async () => {
    const result = await callGateway(gateway, `${path}/${created.body.name}`, { token });
    return result.body.state === 'Active' ? result : undefined;
  }, `mapping of ${json.url} to be Active`);
}

function forward(namespace: string, target: string, call: ApiCall = {}) {
  return callGateway(gateway, `/mtls/account/${namespace}`, {
    method: 'GET',
    ...call,
    headers: { 'lp-forward-url': target, ...call.headers },
  });
}

/** The first forwarded call of a namespace waits for the gateway to load it from Vault. */
function eventuallyForwarded(namespace: string, target: string, call: ApiCall) {
  return eventualValue(async () => {
    const result = await forward(namespace, target, call);
    return result.status === 200 ? result : undefined;
  }, `a forwarded call to ${target}`);
}

describe('forwarding through the gateway', () => {
  it("uses the certificate of the caller's namespace and drops its credentials", async () => {
    const target = `https://localhost:${upstream.port}/hello`;
    const { a, b } = tenants;

    const fromA = await eventuallyForwarded(a.namespace, target, { token: a.token });
    const echoA = fromA.body as UpstreamEcho;
    expect(echoA.clientCn).toBe('tenant-a');
    expect(echoA.path).toBe('/hello');
    expect(echoA.headers.authorization).toBeUndefined();

    const fromB = await eventuallyForwarded(b.namespace, target, { token: b.token });
    expect(fromB.body.clientCn).toBe('tenant-b');

    const posted = await forward(a.namespace, target, {
      method: 'POST',
      token: a.token,
      body: 'x'.repeat(5000),
      headers: { 'lp-authorization-override': 'Basic cGFydG5lcg==', 'content-type': 'text/plain' },
    });
    expect(posted.status).toBe(200);
    expect(posted.body).toMatchObject({
      method: 'POST',
      bodyBytes: 5000,
      headers: { authorization: 'Basic cGFydG5lcg==' },
    });
  });

  it('refuses callers without a token, with a bad one, or without the use right', async () => {
    const { a, b } = tenants;
    const target = `https://localhost:${upstream.port}/refused`;
    const seen = upstream.seenCns.length;

    const anonymous = await forward(a.namespace, target);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('AUTH_MISSING');
    expect(anonymous.headers.get('www-authenticate')).toBe(
      'Bearer realm="mtls-gateway", OAuth realm="mtls-gateway"',
    );
    const forged = await forward(a.namespace, target, { token: 'not-a-token' });
    expect(forged.body.code).toBe('AUTH_INVALID');
    const unsigned = await forward(a.namespace, target, {
      headers: { authorization: 'OAuth oauth_consumer_key="shop"' },
    });
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.code).toMatch(/^OAUTH_/);

    const withoutUse = await forward(a.namespace, target, { token: mapperToken });
    expect(withoutUse.status).toBe(403);
    expect(withoutUse.body.message).toContain('may not use mtlscertificates.mtls.io');
    const otherTenant = await forward(b.namespace, target, { token: a.token });
    expect(otherTenant.status).toBe(403);

    expect(upstream.seenCns.length).toBe(seen);
  });

  it('takes OAuth 1.0 too, for the namespaces the consumer may act for', async () => {
    const { a, b } = tenants;
    await kube.create(collectionPath(RESOURCES.secrets, home), {
      metadata: { name: 'portal', labels: { 'mtls.io/oauth1-consumer': 'true' } },
      stringData: {
        consumerKey: 'portal',
        consumerSecret: 'portal-secret',
        namespaces: a.namespace,
      },
    });
    const oauth = new OAuth({
      consumer: { key: 'portal', secret: 'portal-secret' },
      signature_method: 'HMAC-SHA1',
      hash_function: (base, key) => createHmac('sha1', key).update(base).digest('base64'),
    });
    const signed = (namespace: string) => {
      const url = `http://127.0.0.1:${gateway.port}/mtls/account/${namespace}`;
      return oauth.toHeader(oauth.authorize({ url, method: 'GET' })).Authorization;
    };
    const target = `https://localhost:${upstream.port}/signed`;

    const fromA = await eventualValue(async () => {
      const result = await forward(a.namespace, target, {
        headers: { authorization: signed(a.namespace) },
      });
      return result.status === 200 ? result : undefined;
    }, 'a signed call to be forwarded');
    expect(fromA.body.clientCn).toBe('tenant-a');
    expect(fromA.body.headers.authorization).toBeUndefined();

    const toB = await forward(b.namespace, target, {
      headers: { authorization: signed(b.namespace) },
    });
    expect(toB.status).toBe(403);
    expect(toB.body.message).toContain(`may not act for namespace ${b.namespace}`);
  });

  it('checks an OAuth 1.0 signature over a form body, then forwards that body', async () => {
    const { a } = tenants;
    await kube.create(collectionPath(RESOURCES.secrets, home), {
      metadata: { name: 'till', labels: { 'mtls.io/oauth1-consumer': 'true' } },
      stringData: { consumerKey: 'till', consumerSecret: 'till-secret', namespaces: a.namespace },
    });
    const oauth = new OAuth({
      consumer: { key: 'till', secret: 'till-secret' },
      signature_method: 'HMAC-SHA1',
      hash_function: (base, key) => createHmac('sha1', key).update(base).digest('base64'),
    });
    const url = `http://127.0.0.1:${gateway.port}/mtls/account/${a.namespace}`;
    const data = { amount: '10', currency: 'EUR' };
    const authorization = oauth.toHeader(
      oauth.authorize({ url, method: 'POST', data }),
    ).Authorization;
    const post = (body: string) =>
      forward(a.namespace, `https://localhost:${upstream.port}/payments`, {
        method: 'POST',
        body,
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      });

    const signed = await eventualValue(async () => {
      const result = await post('amount=10&currency=EUR');
      return result.status === 200 ? result : undefined;
    }, 'a signed form to be forwarded');
    expect(signed.body).toMatchObject({ clientCn: 'tenant-a', method: 'POST', bodyBytes: 22 });

    const seen = upstream.seenCns.length;
    const tampered = await post('amount=10000&currency=EUR');
    expect(tampered.status).toBe(401);
    expect(tampered.body.code).toBe('OAUTH_BAD_SIGNATURE');

    const oversized = await post(`amount=10&currency=EUR&pad=${'x'.repeat(1024 * 1024)}`);
    expect(oversized.status).toBe(413);
    expect(oversized.body.message).toContain('signed with OAuth 1.0 is read whole');
    expect(upstream.seenCns.length).toBe(seen);
  });

  it("applies a service's mappings to the service named in LP-service-name", async () => {
    const { a } = tenants;
    const target = `https://127.0.0.1:${upstream.port}/invoices`;

    const billing = await eventuallyForwarded(a.namespace, target, {
      token: a.token,
      headers: { 'lp-service-name': 'billing' },
    });
    expect(billing.body.clientCn).toBe('tenant-a-billing');

    // Loopback is reachable only through a mapping that applies, so these are blocked.
    const unnamed = await forward(a.namespace, target, { token: a.token });
    expect(unnamed.status).toBe(403);
    expect(unnamed.body.code).toBe('PROXY_DESTINATION_BLOCKED');
    const otherService = await forward(a.namespace, target, {
      token: a.token,
      headers: { 'lp-service-name': 'shop' },
    });
    expect(otherService.body.code).toBe('PROXY_DESTINATION_BLOCKED');
  });

  it('follows new mappings of a namespace it has loaded', async () => {
    const { b } = tenants;
    const target = `https://127.0.0.1:${upstream.port}/late`;
    await eventuallyForwarded(b.namespace, `https://localhost:${upstream.port}/`, {
      token: b.token,
    });
    expect((await forward(b.namespace, target, { token: b.token })).status).toBe(403);

    await addMapping(b.namespace, b.token, { url: `https://127.0.0.1:${upstream.port}/late` });

    const late = await eventuallyForwarded(b.namespace, target, { token: b.token });
    expect(late.body.clientCn).toBe('tenant-b');
  });

  it('serves only its API and the forwarding method: it is not a forward proxy', async () => {
    const elsewhere = await callGateway(gateway, '/somewhere');
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.body.code).toBe('PROXY_REQUEST_INVALID');

    const proxied = await callProxy(gateway.port, { path: `http://localhost:${upstream.port}/` });
    expect(proxied.status).toBe(400);
    expect(JSON.parse(proxied.body).code).toBe('PROXY_REQUEST_INVALID');

    const tunnel = await rawExchange(gateway.port, 'CONNECT localhost:443 HTTP/1.1\r\n\r\n');
    expect(tunnel).toMatch(/^HTTP\/1.1 405 .*"code":"PROXY_REQUEST_INVALID"/s);

    const metrics = await fetch(`http://127.0.0.1:${gateway.adminPort}/metrics`);
    const text = await metrics.text();
    expect(text).toMatch(/mtls_gateway_forwarding_refused_total\{code="AUTH_MISSING"\} [1-9]/);
    expect(text).toMatch(/mtls_proxy_requests_total\{mapped="true",upstream_host="localhost"/);
  });
});

// Last: it stops the gateway the other tests use.
describe('stopping the gateway', () => {
  it('ends a forwarded call the upstream never answers after --shutdown-timeout', async () => {
    const { a } = tenants;
    const target = `https://localhost:${upstream.port}/never`;
    await eventuallyForwarded(a.namespace, target, { token: a.token });
    upstream.behaviour = 'hang';
    const calls = upstream.seenCns.length;
    const hanging = forward(a.namespace, target, { token: a.token }).then(
      (result) => `answered ${result.status}`,
      () => 'connection ended',
    );
    await eventualValue(
      async () => upstream.seenCns.length > calls || undefined,
      'the upstream to receive the call',
    );

    // Without the deadline this would wait for the ten-minute upstream timeout.
    await gateway.close();
    gatewayStopped = true;

    expect(await hanging).toBe('connection ended');
  });
});

/** Sends raw bytes to a port and returns all it answers until it closes. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}
