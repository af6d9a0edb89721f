import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';

import { recordingLogger, type LogLine } from '../../test/fixtures/recording-logger';
import { AdmissionServer, MUTATE_PODS_PATH, type ServingIdentity } from './admission-server';
import { DEFAULT_INJECTION_CONFIG } from './injection-config';
import { admitPod } from './pod-admission';
import type { AdmissionResult } from './webhook-metrics';
import {
  createWebhookCa,
  issueServingCertificate,
  servingNames,
  type KeyAndCertificate,
} from './webhook-pki';

type Answer = { status: number; body: string; serial?: string };

const names = servingNames('webhook', 'test', 'https://127.0.0.1:1/');
const validity = () => ({
  notBefore: new Date(Date.now() - 60_000),
  notAfter: new Date(Date.now() + 3_600_000),
});

describe('AdmissionServer', () => {
  const results: AdmissionResult[] = [];
  const lines: LogLine[] = [];
  let ca: KeyAndCertificate;
  let server: AdmissionServer;
  let port: number;
  let failNamespaces = false;

  beforeAll(async () => {
    ca = await createWebhookCa(validity());
    const serving = await issueServingCertificate(ca, names, validity());
    server = new AdmissionServer({
      identity: { keyPem: serving.keyPem, certPem: serving.certPem },
      admit: (request) =>
        admitPod(request, {
          config: DEFAULT_INJECTION_CONFIG,
          namespaceLabels: async (namespace): Promise<Record<string, string>> => {
            if (failNamespaces) throw new Error('apiserver unreachable');
            return namespace === 'injected' ? { 'mtls.io/inject': 'enabled' } : {};
          },
          log: recordingLogger(lines),
        }),
      log: recordingLogger(lines),
      onAnswered: (result) => results.push(result),
      maxBodyBytes: 64 * 1024,
    });
    port = await server.listen(0, '127.0.0.1');
  });

  afterAll(() => server.close());

  function call(method: string, path: string, body?: string | Buffer): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const request = https.request(
        { host: '127.0.0.1', port, method, path, ca: ca.certPem, agent: false },
        (response) => {
          const chunks: Buffer[] = [];
          const serial = (response.socket as TLSSocket).getPeerCertificate().serialNumber;
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks).toString(),
              serial,
            }),
          );
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  }

  const review = (uid: string, namespace: string) =>
    JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid,
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        namespace,
        operation: 'CREATE',
        object: { metadata: { generateName: 'web-' }, spec: { containers: [{ name: 'app' }] } },
      },
    });

  it('answers a review with the uid and a base64 JSON Patch', async () => {
    const answer = await call('POST', MUTATE_PODS_PATH, review('uid-1', 'injected'));
    expect(answer.status).toBe(200);
    const { response, kind, apiVersion } = JSON.parse(answer.body);
    expect([apiVersion, kind]).toEqual(['admission.k8s.io/v1', 'AdmissionReview']);
    expect(response).toMatchObject({ uid: 'uid-1', allowed: true, patchType: 'JSONPatch' });
    const patch = JSON.parse(Buffer.from(response.patch, 'base64').toString());
    expect(patch.map((op: { path: string }) => op.path)).toEqual([
      '/spec/initContainers',
      '/spec/volumes',
      '/metadata/annotations',
    ]);

    const unchanged = JSON.parse(
      (await call('POST', MUTATE_PODS_PATH, review('uid-2', 'plain'))).body,
    );
    expect(unchanged.response).toEqual({ uid: 'uid-2', allowed: true });
    expect(results.slice(-2)).toEqual(['injected', 'skipped']);
  });

  it('refuses bad input with a 4xx and keeps serving', async () => {
    expect((await call('POST', MUTATE_PODS_PATH, '{not json')).status).toBe(400);
    const notReview = await call('POST', MUTATE_PODS_PATH, JSON.stringify({ kind: 'Pod' }));
    expect(notReview).toMatchObject({ status: 400 });
    expect(notReview.body).toContain('expected kind AdmissionReview');
    const noUid = JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {},
    });
    expect((await call('POST', MUTATE_PODS_PATH, noUid)).body).toContain('no request with a uid');
    expect((await call('POST', MUTATE_PODS_PATH, 'null')).status).toBe(400);
    expect((await call('GET', MUTATE_PODS_PATH)).status).toBe(405);
    expect((await call('POST', '/other', review('uid-3', 'plain'))).status).toBe(404);
    const huge = await call('POST', MUTATE_PODS_PATH, Buffer.alloc(100 * 1024, 'a'));
    expect(huge.status).toBe(413);

    expect((await call('POST', MUTATE_PODS_PATH, review('uid-4', 'plain'))).status).toBe(200);
  });

  it('answers 500 when the namespace cannot be read, so the failurePolicy decides', async () => {
    failNamespaces = true;
    try {
      const answer = await call('POST', MUTATE_PODS_PATH, review('uid-5', 'somewhere'));
      expect(answer.status).toBe(500);
      expect(answer.body).toContain('apiserver unreachable');
      expect(results.at(-1)).toBe('error');
      expect(lines.at(-1)).toMatchObject({ level: 'error', message: 'admission failed' });
    } finally {
      failNamespaces = false;
    }
  });

  it('serves a new certificate to new connections without a restart', async () => {
    const before = (await call('POST', MUTATE_PODS_PATH, review('uid-6', 'plain'))).serial;
    const next: ServingIdentity = await issueServingCertificate(ca, names, validity()).then(
      (pair) => ({ keyPem: pair.keyPem, certPem: pair.certPem }),
    );
    server.setIdentity(next);
    const after = await call('POST', MUTATE_PODS_PATH, review('uid-7', 'plain'));
    expect(after.status).toBe(200);
    expect(after.serial).not.toBe(before);
    expect(after.serial).toBe(new X509Certificate(next.certPem).serialNumber);
  });
});
