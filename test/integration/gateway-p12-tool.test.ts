import { randomBytes } from 'node:crypto';

import { MODERN_JAVA } from '../../core/certificate/java-compatibility';
import { collectionPath } from '../../core/kube/api-paths';
import type { KubeClient } from '../../core/kube/kube-client';
import { RESOURCES } from '../../core/resources/api-resources';
import type { Gateway } from '../../sidecar/gateway/gateway';
import { useCorpusPki } from '../fixtures/certificate-corpus';
import { exportPkcs12, P12_PASSWORD, P12_PROTECTIONS } from '../fixtures/pkcs12-corpus';
import {
  adminKube,
  callGateway,
  createNamespace,
  p12Form,
  serviceAccountWith,
  startGateway,
  type ApiCall,
} from './gateway-harness';

// The P12 testing tool: the operator's analysis of an upload, for any authenticated caller,
// with nothing stored.

const pki = useCorpusPki();
const TOOL = '/api/v1/p12/test';
let gateway: Gateway;
let kube: KubeClient;
let namespace = '';
let token = '';

beforeAll(async () => {
  gateway = await startGateway();
  kube = adminKube();
  namespace = await createNamespace(kube, 'gw-p12');
  // No Role at all: the tool needs no right in any namespace.
  token = (await serviceAccountWith(kube, namespace, [])).token;
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  kube?.close();
});

function p12(protection: string[], leaf = pki.leaf): Buffer {
  return exportPkcs12(pki.dir, leaf, [pki.intermediate], protection).bytes;
}

function test(call: ApiCall) {
  return callGateway(gateway, TOOL, { token, ...call });
}

describe('the P12 testing tool', () => {
  it('judges a modern file usable by recent Java, from a JSON byte array', async () => {
    const verdict = await test({ json: { password: P12_PASSWORD, p12: [...p12([])] } });

    expect(verdict.status).toBe(200);
    expect(verdict.body).toMatchObject({
      usable: true,
      problems: [],
      certificate: { subject: expect.stringContaining('CN=leaf'), keyAlgorithm: 'RSA' },
      javaCompatibility: { readableBy: MODERN_JAVA },
    });
    expect(verdict.text).not.toContain(P12_PASSWORD);
  });

  it('judges a legacy file readable by every Java, from base64 and from a form', async () => {
    const legacy = p12(P12_PROTECTIONS.legacyRc2);
    const fromBase64 = await test({
      json: { password: P12_PASSWORD, p12: legacy.toString('base64') },
    });
    const fromForm = await test({ form: p12Form(legacy, { password: P12_PASSWORD }) });

    for (const verdict of [fromBase64, fromForm]) {
      expect(verdict.status).toBe(200);
      expect(verdict.body.usable).toBe(true);
      expect(verdict.body.javaCompatibility).toMatchObject({
        readableBy: ['all'],
        certEncryption: 'pbeWithSHAAnd40BitRC2-CBC',
      });
    }
  });

  it('says why a file is unusable: password, format, size, validity, purpose', async () => {
    const verdictOf = async (bytes: Buffer, password = P12_PASSWORD) => {
      const result = await test({ json: { password, p12: bytes.toString('base64') } });
      expect(result.status).toBe(200);
      expect(result.body.usable).toBe(false);
      return result.body.problems.map((problem: { code: string }) => problem.code);
    };

    expect(await verdictOf(p12([]), 'wrong')).toEqual(['P12_BAD_PASSWORD']);
    expect(await verdictOf(Buffer.from('-----BEGIN CERTIFICATE-----\n'))).toEqual([
      'P12_MALFORMED',
    ]);
    expect(await verdictOf(randomBytes(70_000))).toEqual(['INPUT_TOO_LARGE']);
    expect(await verdictOf(p12([], pki.expiredLeaf))).toEqual(['CERT_EXPIRED']);
    expect(await verdictOf(p12([], pki.serverLeaf))).toEqual(['CERT_NOT_CLIENT_AUTH']);
  });

  it('refuses callers without a token and malformed requests, and stores nothing', async () => {
    const anonymous = await callGateway(gateway, TOOL, {
      json: { password: P12_PASSWORD, p12: [...p12([])] },
    });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('AUTH_MISSING');

    const noFile = await test({ json: { password: 'x' } });
    expect(noFile.status).toBe(400);
    expect(noFile.body.message).toContain('p12 is required');
    const notBytes = await test({ json: { password: 'x', p12: [1, 256] } });
    expect(notBytes.status).toBe(400);
    expect(notBytes.body.message).toContain('p12[1]');
    const huge = await test({ form: p12Form(randomBytes(1_100_000), { password: 'x' }) });
    expect(huge.status).toBe(413);

    const secrets = await kube.request<{ items: unknown[] }>(
      'GET',
      collectionPath(RESOURCES.secrets, namespace),
    );
    expect(secrets.items).toEqual([]);
  });
});
