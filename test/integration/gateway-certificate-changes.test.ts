import { randomBytes } from 'node:crypto';

import { collectionPath } from '../../core/kube/api-paths';
import type { KubeClient } from '../../core/kube/kube-client';
import { RESOURCES } from '../../core/resources/api-resources';
import type { Gateway } from '../../sidecar/gateway/gateway';
import { useCorpusPki } from '../fixtures/certificate-corpus';
import { exportPkcs12, P12_PASSWORD, P12_PROTECTIONS } from '../fixtures/pkcs12-corpus';
import { eventualValue } from './eventually';
import {
  ALL_RIGHTS,
  callGateway,
  certificateOf,
  createNamespace,
  namespaceWithCaller,
  p12Form,
  secretOf,
  serviceAccountWith,
  startGateway,
  useApiGround,
  whenAvailable,
} from './gateway-harness';

// Certificates changed and removed through the gateway's API, with the real operator and
// OpenBao behind it, and who may make those changes. Creation: gateway-certificates.test.ts.

const pki = useCorpusPki();
const ground = useApiGround();
let gateway: Gateway;
let kube: KubeClient;

// After the ground's own beforeAll, which was registered first.
beforeAll(() => ({ gateway, kube } = ground));

function p12(protection = P12_PROTECTIONS.modern, leaf = pki.leaf): Buffer {
  return exportPkcs12(pki.dir, leaf, [pki.intermediate], protection).bytes;
}

describe('the certificate API, updates and deletes', () => {
  it('updates from JSON and from a form, then deletes the certificate and its Secret', async () => {
    const { namespace, token, path } = await namespaceWithCaller(kube, 'gw-certs', 'certificates');
    const json = { name: 'rotating', password: P12_PASSWORD, p12: p12().toString('base64') };
    expect((await callGateway(gateway, path, { token, json })).status).toBe(201);
    await whenAvailable(gateway, `${path}/rotating`, token);

    const toEc = await callGateway(gateway, `${path}/rotating`, {
      method: 'PUT',
      token,
      json: { password: P12_PASSWORD, p12: [...p12(P12_PROTECTIONS.modern, pki.ecLeaf)] },
    });
    expect(toEc.status).toBe(200);
    expect(toEc.body).toMatchObject({ saved: [{ name: 'rotating' }], failed: [] });
    await eventualValue(async () => {
      const status = (await certificateOf(kube, namespace, 'rotating'))?.status;
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
      const status = (await certificateOf(kube, namespace, 'rotating'))?.status;
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
    expect(await secretOf(kube, namespace, 'rotating-p12')).toBeUndefined();
    // The operator removes the Vault copy, then its finalizer; then the certificate is gone.
    const gone = await eventualValue(async () => {
      const result = await callGateway(gateway, `${path}/rotating`, { token });
      return result.status === 404 ? result : undefined;
    }, 'the certificate to be gone');
    expect(gone.body.code).toBe('CERTIFICATE_NOT_FOUND');
  });
});

describe('the certificate API, authentication and RBAC', () => {
  it('leaves the Secret and the MtlsCertificate as they were when it refuses a PUT', async () => {
    const { namespace, token, path } = await namespaceWithCaller(kube, 'gw-keep', 'certificates');
    const json = { name: 'kept', password: P12_PASSWORD, p12: p12().toString('base64') };
    expect((await callGateway(gateway, path, { token, json })).status).toBe(201);
    await whenAvailable(gateway, `${path}/kept`, token);
    const secretBefore = await secretOf(kube, namespace, 'kept-p12');
    const certificateBefore = await certificateOf(kube, namespace, 'kept');

    const refusals: [string, object, number, string][] = [
      [
        'a wrong password',
        { password: 'wrong', p12: p12().toString('base64') },
        422,
        'P12_BAD_PASSWORD',
      ],
      [
        'not PKCS#12',
        { password: P12_PASSWORD, p12: Buffer.from('not a p12').toString('base64') },
        422,
        'P12_MALFORMED',
      ],
      [
        'an oversized file',
        { password: P12_PASSWORD, p12: randomBytes(70_000).toString('base64') },
        413,
        'INPUT_TOO_LARGE',
      ],
      [
        'an oversized body',
        { password: P12_PASSWORD, p12: randomBytes(800_000).toString('base64') },
        413,
        'API_BODY_TOO_LARGE',
      ],
    ];
    for (const [what, body, status, code] of refusals) {
      const refused = await callGateway(gateway, `${path}/kept`, {
        method: 'PUT',
        token,
        json: body,
      });
      expect({ what, status: refused.status, code: refused.body.code }).toEqual({
        what,
        status,
        code,
      });
    }

    const secretAfter = await secretOf(kube, namespace, 'kept-p12');
    expect(secretAfter?.data).toEqual(secretBefore?.data);
    expect(secretAfter?.metadata).toEqual(secretBefore?.metadata);
    const certificateAfter = await certificateOf(kube, namespace, 'kept');
    expect(certificateAfter?.metadata.resourceVersion).toBe(
      certificateBefore?.metadata.resourceVersion,
    );
    expect(certificateAfter?.spec).toEqual(certificateBefore?.spec);
  });

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
    expect(await certificateOf(kube, namespace, 'x')).toBeUndefined();
  });

  it('refuses get, update and delete of a certificate to a caller who may only list', async () => {
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
    const after = await certificateOf(kube, namespace, 'kept');
    expect(after?.metadata.deletionTimestamp).toBeUndefined();
    expect(after?.spec.source).toMatchObject({ pkcs12: { secretName: 'kept-p12' } });
    expect(await secretOf(kube, namespace, 'kept-p12')).toBeUndefined();
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
