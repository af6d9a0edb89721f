import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

import { collectionPath, objectPath } from '../../core/kube/api-paths';
import type { KubeClient } from '../../core/kube/kube-client';
import { RESOURCES } from '../../core/resources/api-resources';
import type { MtlsMapping } from '../../core/resources/types';
import type { RunningOperator } from '../../operator/operator';
import type { Gateway } from '../../sidecar/gateway/gateway';
import { LoopbackPki, type IssuedCertificate } from '../fixtures/loopback-pki';
import { MtlsUpstream } from '../fixtures/mtls-upstream';
import { exportPkcs12, P12_PASSWORD, P12_PROTECTIONS } from '../fixtures/pkcs12-corpus';
import { eventualValue } from './eventually';
import {
  adminKube,
  ALL_RIGHTS,
  callGateway,
  createNamespace,
  serviceAccountWith,
  startGateway,
} from './gateway-harness';
import { applyCrds, runOperator } from './operator-harness';

// Mappings through the gateway's API, validated live against real mutual-TLS servers.

const pki = new LoopbackPki();
const upstream = new MtlsUpstream(pki);
const strangerPki = new LoopbackPki('Stranger CA');
let picky: Server;
let operator: RunningOperator;
let gateway: Gateway;
let kube: KubeClient;

beforeAll(async () => {
  applyCrds();
  await upstream.start();
  // A server the gateway trusts, which wants client certificates of another CA.
  const server = pki.server('picky');
  picky = createServer({
    cert: server.certPem,
    key: server.keyPem,
    ca: strangerPki.ca.certPem,
    requestCert: true,
    rejectUnauthorized: true,
  });
  await new Promise<void>((resolve) => picky.listen(0, '127.0.0.1', resolve));
  operator = await runOperator();
  gateway = await startGateway(['--extra-ca-file', pki.ca.certFile]);
  kube = adminKube();
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await operator?.stop();
  kube?.close();
  await upstream.stop();
  picky.close();
  pki.dispose();
  strangerPki.dispose();
});

function p12Of(issued: IssuedCertificate, name: string): Buffer {
  const leaf = { name, certPath: issued.certFile, keyPath: issued.keyFile, ...issued };
  return exportPkcs12(pki.dir, leaf, [], P12_PROTECTIONS.modern).bytes;
}

/** A namespace, a caller with every right, and an Available certificate `partner`. */
async function namespaceWithCertificate(commonName: string) {
  const namespace = await createNamespace(kube, 'gw-maps');
  const { token } = await serviceAccountWith(kube, namespace, ALL_RIGHTS);
  const accounts = `/api/v1/accounts/${namespace}`;
  const json = {
    name: 'partner',
    password: P12_PASSWORD,
    p12: p12Of(pki.client(commonName), commonName).toString('base64'),
  };
  expect((await callGateway(gateway, `${accounts}/certificates`, { token, json })).status).toBe(
    201,
  );
  await eventualValue(async () => {
    const entity = await callGateway(gateway, `${accounts}/certificates/partner`, { token });
    return entity.body.status === 'Available' ? entity : undefined;
  }, 'the certificate to be Available');
  return { namespace, token, path: `${accounts}/mappings` };
}

describe('the mapping API', () => {
  it('maps a certificate to a URL, which becomes Active; lists, gets and deletes it', async () => {
    const { namespace, token, path } = await namespaceWithCertificate('maps-plain');
    const url = `https://localhost:${upstream.port}/v1/`;

    const created = await callGateway(gateway, path, {
      token,
      json: { name: 'partner-api', url, certificateName: 'partner' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'partner-api',
      url,
      certificateName: 'partner',
      serviceName: null,
      enabled: true,
    });

    const active = await eventualValue(async () => {
      const result = await callGateway(gateway, `${path}/partner-api`, { token });
      return result.body.state === 'Active' ? result.body : undefined;
    }, 'the mapping to be Active');
    expect(active.message).toBeNull();

    const forBilling = await callGateway(gateway, path, {
      token,
      json: {
        url: `https://localhost:${upstream.port}/billing/`,
        certificateName: 'partner',
        serviceName: 'billing',
      },
    });
    expect(forBilling.status).toBe(201);
    expect(forBilling.body.name).toMatch(/^mapping-/);
    expect(forBilling.body.serviceName).toBe('billing');
    const resource = await kube.get<MtlsMapping>(
      objectPath(RESOURCES.mappings, namespace, forBilling.body.name),
    );
    expect(resource!.spec.workloadSelector).toEqual({
      matchLabels: { 'mtls.io/service': 'billing' },
    });

    const listed = await callGateway(gateway, path, { token });
    expect(listed.body.map((m: { name: string }) => m.name).sort()).toEqual(
      [forBilling.body.name, 'partner-api'].sort(),
    );

    const twice = await callGateway(gateway, path, {
      token,
      json: { name: 'partner-api', url, certificateName: 'partner' },
    });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('MAPPING_EXISTS');

    expect(
      (await callGateway(gateway, `${path}/partner-api`, { method: 'DELETE', token })).status,
    ).toBe(204);
    const gone = await callGateway(gateway, `${path}/partner-api`, { token });
    expect(gone.status).toBe(404);
    expect(gone.body.code).toBe('MAPPING_NOT_FOUND');
  });

  it('validates live with a real mutual-TLS call; a failure is 424 and maps nothing', async () => {
    const { namespace, token, path } = await namespaceWithCertificate('maps-live');

    const valid = await callGateway(gateway, path, {
      token,
      json: {
        name: 'checked',
        url: `https://localhost:${upstream.port}/`,
        certificateName: 'partner',
        validate: true,
      },
    });
    expect(valid.status).toBe(201);
    expect(upstream.seenCns).toContain('maps-live');

    const refusedCertificate = await callGateway(gateway, path, {
      token,
      json: {
        url: `https://localhost:${(picky.address() as AddressInfo).port}/`,
        certificateName: 'partner',
        validate: true,
      },
    });
    expect(refusedCertificate.status).toBe(424);
    expect(refusedCertificate.body.code).toBe('MAPPING_VALIDATION_FAILED');
    expect(refusedCertificate.body.message).toMatch(/alert|certificate|reset/i);

    const unreachable = await callGateway(gateway, path, {
      token,
      json: { url: 'https://127.0.0.1:9/', certificateName: 'partner', validate: true },
    });
    expect(unreachable.status).toBe(424);
    expect(unreachable.body.message).toContain('ECONNREFUSED');

    const mappings = await kube.request<{ items: MtlsMapping[] }>(
      'GET',
      collectionPath(RESOURCES.mappings, namespace),
    );
    expect(mappings.items.map((m) => m.metadata.name)).toEqual(['checked']);
  });

  it('validates only for callers that may use the certificate, and only synced ones', async () => {
    const { namespace, path } = await namespaceWithCertificate('maps-rights');
    const mapper = await serviceAccountWith(kube, namespace, [
      { resources: ['mtlsmappings'], verbs: ['create'] },
    ]);
    const url = `https://localhost:${upstream.port}/`;

    const validating = await callGateway(gateway, path, {
      token: mapper.token,
      json: { url, certificateName: 'partner', validate: true },
    });
    expect(validating.status).toBe(403);
    expect(validating.body.message).toContain('use mtlscertificates.mtls.io');
    const plain = await callGateway(gateway, path, {
      token: mapper.token,
      json: { url, certificateName: 'partner' },
    });
    expect(plain.status).toBe(201);
    // Whether a certificate exists is not told to a caller who may not see certificates.
    const blind = await callGateway(gateway, path, {
      token: mapper.token,
      json: { url: `${url}later/`, certificateName: 'nobody' },
    });
    expect(blind.status).toBe(201);
    expect(blind.body.certificateName).toBe('nobody');

    const { token } = await serviceAccountWith(kube, namespace, ALL_RIGHTS);
    await kube.create(collectionPath(RESOURCES.certificates, namespace), {
      apiVersion: 'mtls.io/v1alpha1',
      kind: 'MtlsCertificate',
      metadata: { name: 'unsynced' },
      spec: { source: { pkcs12: { secretName: 'no-such-secret' } } },
    });
    const notSynced = await callGateway(gateway, path, {
      token,
      json: { url, certificateName: 'unsynced', validate: true },
    });
    expect(notSynced.status).toBe(409);
    expect(notSynced.body.code).toBe('CERTIFICATE_NOT_AVAILABLE');

    const badUrl = await callGateway(gateway, path, {
      token,
      json: { url: 'http://plain.example/', certificateName: 'partner' },
    });
    expect(badUrl.status).toBe(400);
    expect(badUrl.body.code).toBe('MAPPING_URL_INVALID');
    const unknown = await callGateway(gateway, path, {
      token,
      json: { url, certificateName: 'nobody' },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('CERTIFICATE_NOT_FOUND');
  });
});

describe('the mapping API and RBAC', () => {
  it('refuses list, get and delete to a caller whose Role grants only create', async () => {
    const namespace = await createNamespace(kube, 'gw-maps-deny');
    const path = `/api/v1/accounts/${namespace}/mappings`;
    await kube.create(collectionPath(RESOURCES.mappings, namespace), {
      apiVersion: 'mtls.io/v1alpha1',
      kind: 'MtlsMapping',
      metadata: { name: 'kept' },
      spec: { url: 'https://api.partner.example/', certificateName: 'partner' },
    });
    const mapper = await serviceAccountWith(kube, namespace, [
      { resources: ['mtlsmappings'], verbs: ['create'] },
      { resources: ['mtlscertificates'], verbs: ['list', 'get', 'update', 'delete', 'use'] },
    ]);

    for (const [method, target, verb] of [
      ['GET', path, 'list'],
      ['GET', `${path}/kept`, 'get'],
      ['DELETE', `${path}/kept`, 'delete'],
    ] as const) {
      const denied = await callGateway(gateway, target, { method, token: mapper.token });
      expect(denied.status).toBe(403);
      expect(denied.body).toEqual({
        code: 'AUTH_FORBIDDEN',
        message: expect.stringContaining(
          `${mapper.user} may not ${verb} mtlsmappings.mtls.io in namespace ${namespace}`,
        ),
      });
    }
    const kept = await kube.get<MtlsMapping>(objectPath(RESOURCES.mappings, namespace, 'kept'));
    expect(kept?.metadata.deletionTimestamp).toBeUndefined();
    expect(kept?.spec.url).toBe('https://api.partner.example/');
  });
});
