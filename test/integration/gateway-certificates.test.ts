import { randomBytes, X509Certificate } from 'node:crypto';

import { collectionPath, objectPath } from '../../core/kube/api-paths';
import type { KubeClient } from '../../core/kube/kube-client';
import { RESOURCES } from '../../core/resources/api-resources';
import type { MtlsCertificate } from '../../core/resources/types';
import type { RunningOperator } from '../../operator/operator';
import type { Gateway } from '../../sidecar/gateway/gateway';
import { useCorpusPki } from '../fixtures/certificate-corpus';
import { exportPkcs12, P12_PASSWORD, P12_PROTECTIONS } from '../fixtures/pkcs12-corpus';
import { eventualValue } from './eventually';
import {
  adminKube,
  ALL_RIGHTS,
  callGateway,
  createNamespace,
  p12Form,
  serviceAccountWith,
  startGateway,
} from './gateway-harness';
import { applyCrds, runOperator } from './operator-harness';

// Certificates through the gateway's API: each write is a Secret and an MtlsCertificate that
// the real operator turns into a certificate in the real OpenBao.

const pki = useCorpusPki();
let operator: RunningOperator;
let gateway: Gateway;
let kube: KubeClient;

beforeAll(async () => {
  applyCrds();
  operator = await runOperator();
  gateway = await startGateway();
  kube = adminKube();
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await operator?.stop();
  kube?.close();
});

type Secret = {
  metadata: { name: string; ownerReferences?: { kind: string; name: string }[] };
  data: Record<string, string>;
};

function p12(protection = P12_PROTECTIONS.modern, leaf = pki.leaf): Buffer {
  return exportPkcs12(pki.dir, leaf, [pki.intermediate], protection).bytes;
}

async function namespaceWithCaller() {
  const namespace = await createNamespace(kube, 'gw-certs');
  const { token } = await serviceAccountWith(kube, namespace, ALL_RIGHTS);
  const path = `/api/v1/accounts/${namespace}/certificates`;
  return { namespace, token, path };
}

function secretOf(namespace: string, name: string) {
  return kube.get<Secret>(objectPath(RESOURCES.secrets, namespace, name));
}

function certificateOf(namespace: string, name: string) {
  return kube.get<MtlsCertificate>(objectPath(RESOURCES.certificates, namespace, name));
}

async function available(path: string, token: string) {
  return eventualValue(async () => {
    const result = await callGateway(gateway, path, { token });
    return result.body.status === 'Available' ? result.body : undefined;
  }, `${path} to be Available`);
}

describe('the certificate API', () => {
  it('creates from a JSON byte array; the operator makes the certificate Available', async () => {
    const { namespace, token, path } = await namespaceWithCaller();
    const file = p12();
    const javaBytes = [...file].map((byte) => (byte > 127 ? byte - 256 : byte));

    const created = await callGateway(gateway, path, {
      token,
      json: {
        name: 'partner',
        displayName: 'Partner bank',
        password: P12_PASSWORD,
        p12: javaBytes,
      },
    });

    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      saved: [
        {
          id: expect.any(String),
          name: 'partner',
          displayName: 'Partner bank',
          status: 'UnAvailable',
          expirationDate: null,
          statusMessage: expect.any(String),
        },
      ],
      failed: [],
    });
    expect(created.text).not.toContain(P12_PASSWORD);

    const secret = await secretOf(namespace, 'partner-p12');
    expect(Buffer.from(secret!.data['keystore.p12'], 'base64').equals(file)).toBe(true);
    expect(secret!.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'MtlsCertificate', name: 'partner' }),
    ]);
    const resource = await certificateOf(namespace, 'partner');
    expect(resource!.spec.source).toEqual({
      pkcs12: { secretName: 'partner-p12', fileKey: 'keystore.p12', passwordKey: 'password' },
    });

    const entity = await available(`${path}/partner`, token);
    const notAfter = new Date(new X509Certificate(pki.leaf.certPem).validTo).toISOString();
    expect(entity).toEqual({
      id: resource!.metadata.uid,
      name: 'partner',
      displayName: 'Partner bank',
      status: 'Available',
      expirationDate: notAfter,
      statusMessage: null,
    });
    expect((await callGateway(gateway, path, { token })).body).toEqual([entity]);
  });

  it('creates from a form upload and from base64, reporting each entry of a list', async () => {
    const { namespace, token, path } = await namespaceWithCaller();

    const form = p12Form(p12(P12_PROTECTIONS.legacyRc2), {
      name: 'from-form',
      password: P12_PASSWORD,
    });
    const fromForm = await callGateway(gateway, path, { token, form });
    expect(fromForm.status).toBe(201);
    expect(fromForm.body.saved.map((c: { name: string }) => c.name)).toEqual(['from-form']);

    const base64 = p12(P12_PROTECTIONS.legacy3des).toString('base64');
    const list = await callGateway(gateway, path, {
      token,
      json: [
        { name: 'from-base64', password: P12_PASSWORD, p12: base64 },
        { name: 'wrong', password: 'not-the-password', p12: base64 },
      ],
    });
    expect(list.status).toBe(201);
    expect(list.body.saved.map((c: { name: string }) => c.name)).toEqual(['from-base64']);
    expect(list.body.failed).toEqual([
      { name: 'wrong', code: 'P12_BAD_PASSWORD', message: expect.stringContaining('password') },
    ]);

    await available(`${path}/from-form`, token);
    await available(`${path}/from-base64`, token);
    expect(await certificateOf(namespace, 'wrong')).toBeUndefined();
    expect(await secretOf(namespace, 'wrong-p12')).toBeUndefined();
  });

  it('refuses unusable uploads with a clear 4xx and creates nothing', async () => {
    const { namespace, token, path } = await namespaceWithCaller();
    const refused = async (json: unknown) => callGateway(gateway, path, { token, json });

    const tooLarge = await refused({
      name: 'big',
      password: P12_PASSWORD,
      p12: randomBytes(70_000).toString('base64'),
    });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toMatchObject({ code: 'INPUT_TOO_LARGE', saved: [] });

    const hugeBody = await callGateway(gateway, path, {
      token,
      form: p12Form(randomBytes(1_200_000), { name: 'huge', password: 'x' }),
    });
    expect(hugeBody.status).toBe(413);
    expect(hugeBody.body.code).toBe('API_BODY_TOO_LARGE');

    const notP12 = await refused({
      name: 'text',
      password: P12_PASSWORD,
      p12: [...Buffer.from('this is not a PKCS#12 file at all')],
    });
    expect(notP12.status).toBe(422);
    expect(notP12.body).toMatchObject({
      code: 'P12_MALFORMED',
      failed: [{ name: 'text', code: 'P12_MALFORMED' }],
    });

    const wrongPassword = await callGateway(gateway, path, {
      token,
      form: p12Form(p12(), { name: 'locked', password: 'guess' }, 'file'),
    });
    expect(wrongPassword.status).toBe(422);
    expect(wrongPassword.body.code).toBe('P12_BAD_PASSWORD');

    const expired = await refused({
      name: 'old',
      password: P12_PASSWORD,
      p12: p12(P12_PROTECTIONS.modern, pki.expiredLeaf).toString('base64'),
    });
    expect(expired.status).toBe(422);
    expect(expired.body.code).toBe('CERT_EXPIRED');

    const noPassword = await refused({ name: 'nopass', p12: [1, 2, 3] });
    expect(noPassword.status).toBe(400);
    expect(noPassword.body.code).toBe('API_REQUEST_INVALID');
    const plainText = await callGateway(gateway, path, { token, body: 'p12' });
    expect(plainText.status).toBe(415);

    expect((await callGateway(gateway, path, { token })).body).toEqual([]);
    const secrets = await kube.request<{ items: Secret[] }>(
      'GET',
      collectionPath(RESOURCES.secrets, namespace),
    );
    expect(secrets.items).toEqual([]);
  });

  it('updates from JSON and from a form, then deletes the certificate and its Secret', async () => {
    const { namespace, token, path } = await namespaceWithCaller();
    const json = { name: 'rotating', password: P12_PASSWORD, p12: p12().toString('base64') };
    expect((await callGateway(gateway, path, { token, json })).status).toBe(201);
    await available(`${path}/rotating`, token);

    const toEc = await callGateway(gateway, `${path}/rotating`, {
      method: 'PUT',
      token,
      json: { password: P12_PASSWORD, p12: [...p12(P12_PROTECTIONS.modern, pki.ecLeaf)] },
    });
    expect(toEc.status).toBe(200);
    expect(toEc.body).toMatchObject({ saved: [{ name: 'rotating' }], failed: [] });
    await eventualValue(async () => {
      const status = (await certificateOf(namespace, 'rotating'))?.status;
      return status?.keyAlgorithm === 'EC' && status.vaultVersion === 2 ? status : undefined;
    }, 'the EC certificate in Vault');

    const back = await callGateway(gateway, `${path}/rotating`, {
      method: 'PUT',
      token,
      form: p12Form(p12(), { password: P12_PASSWORD, displayName: 'Rotated' }),
    });
    expect(back.status).toBe(200);
    expect(back.body.saved[0].displayName).toBe('Rotated');
    await eventualValue(async () => {
      const status = (await certificateOf(namespace, 'rotating'))?.status;
      return status?.keyAlgorithm === 'RSA' && status.vaultVersion === 3 ? status : undefined;
    }, 'the RSA certificate in Vault again');

    const missing = await callGateway(gateway, `${path}/absent`, {
      method: 'PUT',
      token,
      json: { password: P12_PASSWORD, p12: json.p12 },
    });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('CERTIFICATE_NOT_FOUND');

    const deleted = await callGateway(gateway, `${path}/rotating`, { method: 'DELETE', token });
    expect(deleted.status).toBe(204);
    expect(await secretOf(namespace, 'rotating-p12')).toBeUndefined();
    // The operator removes the Vault copy, then its finalizer; then the certificate is gone.
    const gone = await eventualValue(async () => {
      const result = await callGateway(gateway, `${path}/rotating`, { token });
      return result.status === 404 ? result : undefined;
    }, 'the certificate to be gone');
    expect(gone.body.code).toBe('CERTIFICATE_NOT_FOUND');
  });

  it('refuses to create a certificate that exists and keeps the first one', async () => {
    const { namespace, token, path } = await namespaceWithCaller();
    const first = { name: 'twice', password: P12_PASSWORD, p12: p12().toString('base64') };
    expect((await callGateway(gateway, path, { token, json: first })).status).toBe(201);
    const before = await secretOf(namespace, 'twice-p12');

    const again = await callGateway(gateway, path, {
      token,
      json: { ...first, p12: p12(P12_PROTECTIONS.modern, pki.ecLeaf).toString('base64') },
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'CERTIFICATE_EXISTS', saved: [] });
    expect((await secretOf(namespace, 'twice-p12'))!.data).toEqual(before!.data);
  });
});

describe('the certificate API, authentication and RBAC', () => {
  it('answers 401 without a valid token and 403 naming the right RBAC lacks', async () => {
    const namespace = await createNamespace(kube, 'gw-rbac');
    const path = `/api/v1/accounts/${namespace}/certificates`;
    const json = { name: 'x', password: P12_PASSWORD, p12: p12().toString('base64') };

    const anonymous = await callGateway(gateway, path);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('AUTH_MISSING');
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="mtls-gateway"');
    const forged = await callGateway(gateway, path, { token: 'eyJhbGciOiJSUzI1NiJ9.e30.c2ln' });
    expect(forged.status).toBe(401);
    expect(forged.body.code).toBe('AUTH_INVALID');

    const reader = await serviceAccountWith(kube, namespace, [
      { resources: ['mtlscertificates'], verbs: ['list', 'get'] },
    ]);
    expect((await callGateway(gateway, path, { token: reader.token })).status).toBe(200);
    const write = await callGateway(gateway, path, { token: reader.token, json });
    expect(write.status).toBe(403);
    expect(write.body).toEqual({
      code: 'AUTH_FORBIDDEN',
      message: expect.stringContaining(
        `${reader.user} may not create mtlscertificates.mtls.io in namespace ${namespace}`,
      ),
    });

    const elsewhere = await createNamespace(kube, 'gw-rbac-other');
    const outsider = await serviceAccountWith(kube, elsewhere, ALL_RIGHTS);
    const across = await callGateway(gateway, path, { token: outsider.token });
    expect(across.status).toBe(403);
    expect(across.body.message).toContain('list mtlscertificates.mtls.io');
    expect(await certificateOf(namespace, 'x')).toBeUndefined();
  });

  it('refuses get, update and delete of one certificate to a caller who may only list', async () => {
    const namespace = await createNamespace(kube, 'gw-deny');
    const path = `/api/v1/accounts/${namespace}/certificates`;
    await kube.create(collectionPath(RESOURCES.certificates, namespace), {
      apiVersion: 'mtls.io/v1alpha1',
      kind: 'MtlsCertificate',
      metadata: { name: 'kept' },
      spec: { source: { pkcs12: { secretName: 'kept-p12' } } },
    });
    const lister = await serviceAccountWith(kube, namespace, [
      { resources: ['mtlscertificates'], verbs: ['list'] },
    ]);
    expect((await callGateway(gateway, path, { token: lister.token })).status).toBe(200);

    const json = { password: P12_PASSWORD, p12: p12().toString('base64') };
    for (const [method, verb, call] of [
      ['GET', 'get', {}],
      ['PUT', 'update', { json }],
      ['DELETE', 'delete', {}],
    ] as const) {
      const denied = await callGateway(gateway, `${path}/kept`, {
        method,
        token: lister.token,
        ...call,
      });
      expect(denied.status).toBe(403);
      expect(denied.body).toEqual({
        code: 'AUTH_FORBIDDEN',
        message: expect.stringContaining(
          `${lister.user} may not ${verb} mtlscertificates.mtls.io in namespace ${namespace}`,
        ),
      });
    }
    // The operator may have added its finalizer and status; neither delete nor update ran.
    const after = await certificateOf(namespace, 'kept');
    expect(after?.metadata.deletionTimestamp).toBeUndefined();
    expect(after?.spec.source).toMatchObject({ pkcs12: { secretName: 'kept-p12' } });
    expect(await secretOf(namespace, 'kept-p12')).toBeUndefined();
  });

  it('takes only tokens for its audience when it names one', async () => {
    const namespace = await createNamespace(kube, 'gw-aud');
    const path = `/api/v1/accounts/${namespace}/certificates`;
    const audienceGateway = await startGateway(['--api-audiences', 'mtls-gateway']);
    try {
      const general = await serviceAccountWith(kube, namespace, ALL_RIGHTS);
      const refused = await callGateway(audienceGateway, path, { token: general.token });
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('AUTH_INVALID');

      const bound = await serviceAccountWith(kube, namespace, ALL_RIGHTS, {
        audiences: ['mtls-gateway'],
      });
      expect((await callGateway(audienceGateway, path, { token: bound.token })).status).toBe(200);
    } finally {
      await audienceGateway.close();
    }
  });
});
