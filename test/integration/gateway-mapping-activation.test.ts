import { collectionPath, objectPath } from '../../core/kube/api-paths';
import type { KubeClient } from '../../core/kube/kube-client';
import type { MappingIndexDocument } from '../../core/mapping/index-document';
import { RESOURCES } from '../../core/resources/api-resources';
import type { MtlsMapping } from '../../core/resources/types';
import { MappingStore } from '../../sidecar/gateway/api/mapping-store';
import type { Gateway } from '../../sidecar/gateway/gateway';
import { LoopbackPki } from '../fixtures/loopback-pki';
import { MtlsUpstream } from '../fixtures/mtls-upstream';
import { exportPkcs12, P12_PASSWORD, P12_PROTECTIONS } from '../fixtures/pkcs12-corpus';
import { eventualValue } from './eventually';
import {
  callGateway,
  createNamespace,
  namespaceWithCaller,
  serviceAccountWith,
  useApiGround,
  whenAvailable,
} from './gateway-harness';
import { readKv } from './operator-harness';

// Activating and deactivating mappings through the gateway's API (PATCH {enabled}), with the
// real operator taking them out of the namespace index in OpenBao and putting them back.

const pki = new LoopbackPki();
const upstream = new MtlsUpstream(pki);
const ground = useApiGround(['--extra-ca-file', pki.ca.certFile]);
let gateway: Gateway;
let kube: KubeClient;

beforeAll(async () => {
  // After the ground's own beforeAll, which was registered first.
  ({ gateway, kube } = ground);
  await upstream.start();
});

afterAll(async () => {
  await upstream.stop();
  pki.dispose();
});

/** A namespace, a caller with every right, and an Available certificate `partner`. */
async function namespaceWithCertificate(commonName: string) {
  const { namespace, token, path } = await namespaceWithCaller(kube, 'gw-activate', 'mappings');
  const issued = pki.client(commonName);
  const leaf = { name: commonName, certPath: issued.certFile, keyPath: issued.keyFile, ...issued };
  const p12 = exportPkcs12(pki.dir, leaf, [], P12_PROTECTIONS.modern).bytes;
  const certificates = `/api/v1/accounts/${namespace}/certificates`;
  const json = { name: 'partner', password: P12_PASSWORD, p12: p12.toString('base64') };
  expect((await callGateway(gateway, certificates, { token, json })).status).toBe(201);
  await whenAvailable(gateway, `${certificates}/partner`, token);
  return { namespace, token, path };
}

/** The names in the namespace index once they are `expected`, as sidecars read it. */
function indexedNames(namespace: string, expected: string[]) {
  return eventualValue(
    async () => {
      const index = await readKv<MappingIndexDocument>(`mtls/${namespace}/index`);
      const names = index?.data.mappings.map((mapping) => mapping.name).sort();
      return JSON.stringify(names) === JSON.stringify(expected) ? names : undefined;
    },
    `the index of ${namespace} to hold [${expected.join(', ')}]`,
  );
}

/** The mapping entity once the operator has judged it into `state`. */
function mappingIn(path: string, token: string, state: string) {
  return eventualValue(async () => {
    const result = await callGateway(gateway, path, { token });
    return result.body.state === state ? result.body : undefined;
  }, `${path} to be ${state}`);
}

function mappingOf(namespace: string, name: string) {
  return kube.get<MtlsMapping>(objectPath(RESOURCES.mappings, namespace, name));
}

describe('activating and deactivating a mapping', () => {
  it('takes a deactivated mapping out of the index and puts it back when activated', async () => {
    const { namespace, token, path } = await namespaceWithCertificate('activate-plain');
    const url = `https://localhost:${upstream.port}/v1/`;
    const created = await callGateway(gateway, path, {
      token,
      json: { name: 'partner-api', url, certificateName: 'partner' },
    });
    expect(created.status).toBe(201);
    await mappingIn(`${path}/partner-api`, token, 'Active');
    expect(await indexedNames(namespace, ['partner-api'])).toEqual(['partner-api']);

    const off = await callGateway(gateway, `${path}/partner-api`, {
      method: 'PATCH',
      token,
      json: { enabled: false },
    });
    expect(off.status).toBe(200);
    // The answer is the object as written: the operator has not judged the change yet.
    expect(off.body).toMatchObject({ name: 'partner-api', url, enabled: false, state: 'Pending' });
    const disabled = await mappingIn(`${path}/partner-api`, token, 'Disabled');
    expect(disabled).toMatchObject({ enabled: false, message: 'spec.enabled is false' });
    expect((await mappingOf(namespace, 'partner-api'))!.spec).toMatchObject({
      url,
      certificateName: 'partner',
      enabled: false,
    });
    expect(await indexedNames(namespace, [])).toEqual([]);

    // A merge patch, as kubectl would send one, is taken too; validating calls the upstream.
    const seenBefore = upstream.seenCns.length;
    const on = await callGateway(gateway, `${path}/partner-api`, {
      method: 'PATCH',
      token,
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ enabled: true, validate: true }),
    });
    expect(on.status).toBe(200);
    expect(on.body).toMatchObject({ enabled: true, state: 'Pending' });
    expect(upstream.seenCns.slice(seenBefore)).toContain('activate-plain');
    const active = await mappingIn(`${path}/partner-api`, token, 'Active');
    expect(active).toMatchObject({ enabled: true, message: null });
    expect(await indexedNames(namespace, ['partner-api'])).toEqual(['partner-api']);
  });

  it('enables only the version it validated: a mapping changed since is 409', async () => {
    const namespace = await createNamespace(kube, 'gw-activate-stale');
    await kube.create(collectionPath(RESOURCES.mappings, namespace), {
      apiVersion: 'mtls.io/v1alpha1',
      kind: 'MtlsMapping',
      metadata: { name: 'moving' },
      spec: { url: 'https://localhost:9/v1/', certificateName: 'partner', enabled: false },
    });
    const validated = (await mappingOf(namespace, 'moving'))!;

    // Another writer points the mapping elsewhere after the URL was validated.
    await kube.patch(objectPath(RESOURCES.mappings, namespace, 'moving'), {
      spec: { url: 'https://localhost:9/v2/' },
    });

    const store = new MappingStore(kube);
    await expect(store.setEnabled(namespace, 'moving', true, validated.spec)).rejects.toMatchObject(
      {
        status: 409,
        code: 'MAPPING_CHANGED',
      },
    );
    expect((await mappingOf(namespace, 'moving'))!.spec).toMatchObject({
      url: 'https://localhost:9/v2/',
      enabled: false,
    });

    // A write to its status alone (the operator's) does not stand in the way.
    const current = (await mappingOf(namespace, 'moving'))!;
    await kube.patch(`${objectPath(RESOURCES.mappings, namespace, 'moving')}/status`, {
      status: { observedGeneration: current.metadata.generation },
    });
    const enabled = await store.setEnabled(namespace, 'moving', true, current.spec);
    expect(enabled.spec).toMatchObject({ url: 'https://localhost:9/v2/', enabled: true });
  });

  it('leaves a mapping disabled when the validation asked for fails: 424', async () => {
    const { namespace, token, path } = await namespaceWithCertificate('activate-refused');
    await kube.create(collectionPath(RESOURCES.mappings, namespace), {
      apiVersion: 'mtls.io/v1alpha1',
      kind: 'MtlsMapping',
      metadata: { name: 'unreachable' },
      spec: { url: 'https://127.0.0.1:9/', certificateName: 'partner', enabled: false },
    });

    const refused = await callGateway(gateway, `${path}/unreachable`, {
      method: 'PATCH',
      token,
      json: { enabled: true, validate: true },
    });
    expect(refused.status).toBe(424);
    expect(refused.body.code).toBe('MAPPING_VALIDATION_FAILED');
    expect(refused.body.message).toContain('ECONNREFUSED');
    expect((await mappingOf(namespace, 'unreachable'))!.spec.enabled).toBe(false);

    // Without validation it is activated as asked: the operator judges it as any other.
    const unchecked = await callGateway(gateway, `${path}/unreachable`, {
      method: 'PATCH',
      token,
      json: { enabled: true },
    });
    expect(unchecked.status).toBe(200);
    expect((await mappingOf(namespace, 'unreachable'))!.spec.enabled).toBe(true);
  });

  it('refuses a caller without patch (403), unknown mappings (404), bad bodies (400)', async () => {
    const namespace = await createNamespace(kube, 'gw-activate-deny');
    const path = `/api/v1/accounts/${namespace}/mappings`;
    await kube.create(collectionPath(RESOURCES.mappings, namespace), {
      apiVersion: 'mtls.io/v1alpha1',
      kind: 'MtlsMapping',
      metadata: { name: 'kept' },
      spec: { url: 'https://api.partner.example/', certificateName: 'partner' },
    });
    await kube.create(collectionPath(RESOURCES.certificates, namespace), {
      apiVersion: 'mtls.io/v1alpha1',
      kind: 'MtlsCertificate',
      metadata: { name: 'partner' },
      spec: { source: { pkcs12: { secretName: 'partner-p12' } } },
    });
    const patch = (token: string, target: string, json: unknown) =>
      callGateway(gateway, target, { method: 'PATCH', token, json });

    const everythingElse = await serviceAccountWith(kube, namespace, [
      { resources: ['mtlsmappings'], verbs: ['list', 'get', 'create', 'update', 'delete'] },
      { resources: ['mtlscertificates'], verbs: ['list', 'get', 'use'] },
    ]);
    const denied = await patch(everythingElse.token, `${path}/kept`, { enabled: false });
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({
      code: 'AUTH_FORBIDDEN',
      message: expect.stringContaining(
        `${everythingElse.user} may not patch mtlsmappings.mtls.io in namespace ${namespace}`,
      ),
    });

    // Validating calls out with the certificate: without `use` on it, no activation validates.
    const patcher = await serviceAccountWith(kube, namespace, [
      { resources: ['mtlsmappings'], verbs: ['patch'] },
    ]);
    const noUse = await patch(patcher.token, `${path}/kept`, { enabled: true, validate: true });
    expect(noUse.status).toBe(403);
    expect(noUse.body.message).toContain('use mtlscertificates.mtls.io');

    for (const body of [{ enabled: false }, { enabled: true, validate: true }]) {
      const unknown = await patch(patcher.token, `${path}/nobody`, body);
      expect(unknown.status).toBe(404);
      expect(unknown.body.code).toBe('MAPPING_NOT_FOUND');
    }

    for (const body of [
      [true],
      'enabled',
      {},
      { enabled: 'false' },
      { enabled: true, validate: 'yes' },
      { enabled: false, url: 'https://other.example/' },
    ]) {
      const bad = await patch(patcher.token, `${path}/kept`, body);
      expect({ body, status: bad.status, code: bad.body.code }).toEqual({
        body,
        status: 400,
        code: 'API_REQUEST_INVALID',
      });
    }
    const notJson = await callGateway(gateway, `${path}/kept`, {
      method: 'PATCH',
      token: patcher.token,
      headers: { 'content-type': 'application/json' },
      body: '{"enabled": fals',
    });
    expect(notJson.status).toBe(400);
    expect(notJson.body.code).toBe('API_REQUEST_INVALID');
    const plainText = await callGateway(gateway, `${path}/kept`, {
      method: 'PATCH',
      token: patcher.token,
      body: 'enabled=false',
    });
    expect(plainText.status).toBe(415);
    expect(plainText.body.code).toBe('API_UNSUPPORTED_MEDIA_TYPE');

    // The CRD's defaults, and nothing the refusals above asked for.
    const kept = await mappingOf(namespace, 'kept');
    expect(kept!.spec).toEqual({
      url: 'https://api.partner.example/',
      certificateName: 'partner',
      enabled: true,
      liveValidation: false,
    });
  });
});
