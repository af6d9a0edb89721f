import { randomBytes, X509Certificate } from 'node:crypto';

import { collectionPath } from '../../core/kube/api-paths';
import type { KubeClient } from '../../core/kube/kube-client';
import { RESOURCES } from '../../core/resources/api-resources';
import type { Gateway } from '../../sidecar/gateway/gateway';
import { useCorpusPki } from '../fixtures/certificate-corpus';
import { exportPkcs12, P12_PASSWORD, P12_PROTECTIONS } from '../fixtures/pkcs12-corpus';
import {
  callGateway,
  certificateOf,
  namespaceWithCaller,
  p12Form,
  secretOf,
  useApiGround,
  whenAvailable,
  type SecretObject,
} from './gateway-harness';

// Certificates created through the gateway's API: each is a Secret and an MtlsCertificate that
// the real operator turns into a certificate in the real OpenBao. Updates, deletes and who may
// make them: gateway-certificate-changes.test.ts.

const pki = useCorpusPki();
const ground = useApiGround();
let gateway: Gateway;
let kube: KubeClient;

// After the ground's own beforeAll, which was registered first.
beforeAll(() => ({ gateway, kube } = ground));

function p12(protection = P12_PROTECTIONS.modern, leaf = pki.leaf): Buffer {
  return exportPkcs12(pki.dir, leaf, [pki.intermediate], protection).bytes;
}

describe('the certificate API', () => {
  it('creates from a JSON byte array; the operator makes the certificate Available', async () => {
    const { namespace, token, path } = await namespaceWithCaller(kube, 'gw-certs', 'certificates');
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

    const secret = await secretOf(kube, namespace, 'partner-p12');
    expect(Buffer.from(secret!.data['keystore.p12'], 'base64').equals(file)).toBe(true);
    expect(secret!.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'MtlsCertificate', name: 'partner' }),
    ]);
    const resource = await certificateOf(kube, namespace, 'partner');
    expect(resource!.spec.source).toEqual({
      pkcs12: { secretName: 'partner-p12', fileKey: 'keystore.p12', passwordKey: 'password' },
    });

    const entity = await whenAvailable(gateway, `${path}/partner`, token);
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
    const { namespace, token, path } = await namespaceWithCaller(kube, 'gw-certs', 'certificates');

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

    await whenAvailable(gateway, `${path}/from-form`, token);
    await whenAvailable(gateway, `${path}/from-base64`, token);
    expect(await certificateOf(kube, namespace, 'wrong')).toBeUndefined();
    expect(await secretOf(kube, namespace, 'wrong-p12')).toBeUndefined();
  });

  it('refuses unusable uploads with a clear 4xx and creates nothing', async () => {
    const { namespace, token, path } = await namespaceWithCaller(kube, 'gw-certs', 'certificates');
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
    const secrets = await kube.request<{ items: SecretObject[] }>(
      'GET',
      collectionPath(RESOURCES.secrets, namespace),
    );
    expect(secrets.items).toEqual([]);
  });

  it('refuses to create a certificate that exists and keeps the first one', async () => {
    const { namespace, token, path } = await namespaceWithCaller(kube, 'gw-certs', 'certificates');
    const first = { name: 'twice', password: P12_PASSWORD, p12: p12().toString('base64') };
    expect((await callGateway(gateway, path, { token, json: first })).status).toBe(201);
    const before = await secretOf(kube, namespace, 'twice-p12');

    const again = await callGateway(gateway, path, {
      token,
      json: { ...first, p12: p12(P12_PROTECTIONS.modern, pki.ecLeaf).toString('base64') },
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'CERTIFICATE_EXISTS', saved: [] });
    expect((await secretOf(kube, namespace, 'twice-p12'))!.data).toEqual(before!.data);
  });
});
